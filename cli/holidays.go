package cli

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"strings"

	"github.com/ospreyhq/osprey/config"
	"github.com/ospreyhq/osprey/internal/calendar"
)

// holidaysKey names the directory of supplied holiday calendars.
const holidaysKey = "osprey.holidays.directory"

// loadHolidays reads the holiday calendars supplied in
// osprey.holidays.directory. Every component loads them at start, so the
// webserver, the scheduler and the workers read the same days, and a bad
// file stops whichever starts first rather than leaving a calendar empty.
// Without the key, the built-in calendars alone (nil).
func loadHolidays(ctx context.Context, cfg *config.Config, log *slog.Logger) (*calendar.Calendars, error) {
	dir := strings.TrimSpace(cfg.Osprey.HolidaysDirectory)
	if dir == "" {
		return nil, nil
	}
	cals, err := calendar.Load(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &config.Error{Key: holidaysKey, Source: cfg.SourceOf(holidaysKey),
			Msg: dir + " does not exist: create it with one CODE.ics file per calendar (CL.ics, DE-BY.ics), or leave the key unset"}
	}
	if err != nil {
		return nil, &config.Error{Key: holidaysKey, Source: cfg.SourceOf(holidaysKey),
			Msg: "the holiday calendars do not load: " + strings.ReplaceAll(err.Error(), "\n", "; ")}
	}
	log.InfoContext(ctx, "holiday calendars supplied", "component", "calendar", "directory", dir, "codes", strings.Join(cals.Supplied(), ","))
	return cals, nil
}
