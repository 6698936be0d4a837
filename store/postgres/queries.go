package postgres

import _ "embed"

// queriesSQL holds every statement of the driver, split by sqlfile.Parse.
//
//go:embed queries.sql
var queriesSQL string
