-- osprey_fail raises an error with the given SQLSTATE and message. A
-- write the driver sends as one pipelined batch, in one implicit
-- transaction and one round trip, checks its preconditions (an
-- execution's version, a free concurrency slot) in a statement that calls
-- it when they do not hold: the error rolls back every statement of the
-- batch, the ones already run included, as an explicit transaction's
-- rollback would, without the round trips of BEGIN and COMMIT.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION osprey_fail(code TEXT, message TEXT) RETURNS BIGINT LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION osprey_fail(TEXT, TEXT);
