package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// jdbcParams maps PostgreSQL JDBC driver parameters onto libpq/pgx ones.
// Parameters in neither table are dropped with a notice: pgx would send them
// to the server as run-time settings, which the server rejects.
var jdbcParams = map[string]string{
	"user":             "user",
	"password":         "password",
	"sslmode":          "sslmode",
	"sslcert":          "sslcert",
	"sslkey":           "sslkey",
	"sslrootcert":      "sslrootcert",
	"sslpassword":      "sslpassword",
	"applicationname":  "application_name",
	"currentschema":    "search_path",
	"connecttimeout":   "connect_timeout",
	"options":          "options",
	"targetservertype": "target_session_attrs",
}

// targetServerTypes maps JDBC's targetServerType values onto libpq's
// target_session_attrs.
var targetServerTypes = map[string]string{
	"any":             "any",
	"primary":         "read-write",
	"master":          "read-write",
	"secondary":       "read-only",
	"slave":           "read-only",
	"preferprimary":   "prefer-standby", // closest libpq has; notice below
	"prefersecondary": "prefer-standby",
	"preferslave":     "prefer-standby",
}

// pgURL converts what datasources.postgres.url holds to a postgres:// URL
// for pgx. It accepts Kestra's JDBC form
// (jdbc:postgresql://host:port/db?params, several hosts allowed) and
// postgres:// or postgresql:// URLs; a key=value DSN is returned unchanged.
// notices lists JDBC parameters it dropped or rewrote.
func pgURL(raw string) (u *url.URL, dsn string, notices []string, err error) {
	raw = strings.TrimSpace(raw)
	lower := strings.ToLower(raw)
	switch {
	case strings.HasPrefix(lower, "jdbc:postgresql:"):
		rest := raw[len("jdbc:postgresql:"):]
		if !strings.HasPrefix(rest, "//") {
			// jdbc:postgresql:database — host defaults to localhost.
			rest = "//localhost/" + rest
		}
		u, err = url.Parse("postgres:" + rest)
		if err != nil {
			return nil, "", nil, fmt.Errorf("parse JDBC URL: %w", unwrapURL(err))
		}
		notices = jdbcQuery(u)
	case strings.HasPrefix(lower, "jdbc:"):
		return nil, "", nil, errors.New("is a JDBC URL for another database; Osprey speaks PostgreSQL: write jdbc:postgresql://host:5432/kestra")
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		u, err = url.Parse(raw)
		if err != nil {
			return nil, "", nil, fmt.Errorf("parse URL: %w", unwrapURL(err))
		}
		u.Scheme = "postgres"
	case strings.Contains(raw, "="):
		return nil, raw, nil, nil
	default:
		return nil, "", nil, errors.New("is not a PostgreSQL URL: write jdbc:postgresql://host:5432/kestra or postgres://host:5432/kestra")
	}
	if u.Host == "" {
		return nil, "", nil, errors.New("has no host: write jdbc:postgresql://host:5432/kestra")
	}
	return u, "", notices, nil
}

// jdbcQuery rewrites u's query from JDBC parameters to libpq ones.
func jdbcQuery(u *url.URL) []string {
	q := u.Query()
	out := url.Values{}
	var notices []string
	ssl := ""
	for name, vals := range q {
		v := ""
		if len(vals) > 0 {
			v = vals[len(vals)-1]
		}
		lname := strings.ToLower(name)
		switch lname {
		case "ssl":
			ssl = strings.ToLower(v)
			continue
		case "targetservertype":
			t, ok := targetServerTypes[strings.ToLower(v)]
			if !ok {
				notices = append(notices, fmt.Sprintf("JDBC parameter targetServerType=%s is not understood; dropped", v))
				continue
			}
			out.Set("target_session_attrs", t)
			continue
		}
		to, ok := jdbcParams[lname]
		if !ok {
			notices = append(notices, fmt.Sprintf("JDBC parameter %s has no equivalent in Osprey's PostgreSQL driver; dropped", name))
			continue
		}
		out.Set(to, v)
	}
	if ssl == "true" && out.Get("sslmode") == "" {
		out.Set("sslmode", "require")
	}
	if ssl == "false" && out.Get("sslmode") == "" {
		out.Set("sslmode", "disable")
	}
	u.RawQuery = out.Encode()
	return notices
}

func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// ConnString returns the connection string to hand to pgx: the URL in
// postgres:// form (JDBC converted) with Username and Password applied. It is
// a Secret because it carries the password; use Redacted for messages.
func (d Datasource) ConnString() (Secret, error) {
	u, dsn, _, err := pgURL(d.URL.Reveal())
	if err != nil {
		return Secret{}, fmt.Errorf("datasources.postgres.url %w", err)
	}
	if dsn != "" {
		if d.Username != "" {
			dsn += " user=" + quoteDSN(d.Username)
		}
		if !d.Password.IsZero() {
			dsn += " password=" + quoteDSN(d.Password.Reveal())
		}
		return NewSecret(dsn), nil
	}
	applyCredentials(u, d.Username, d.Password.Reveal())
	return NewSecret(u.String()), nil
}

// Redacted returns the connection URL with any password replaced by ******,
// for logs and error messages.
func (d Datasource) Redacted() string {
	u, dsn, _, err := pgURL(d.URL.Reveal())
	if err != nil {
		return "(invalid datasources.postgres.url)"
	}
	if dsn != "" {
		return "(key=value connection string)"
	}
	applyCredentials(u, d.Username, "")
	_, inURL := u.User.Password()
	if inURL || !d.Password.IsZero() {
		u.User = url.UserPassword(u.User.Username(), redacted)
	}
	if q := u.Query(); q.Has("sslpassword") {
		q.Set("sslpassword", redacted)
		u.RawQuery = q.Encode()
	}
	return strings.ReplaceAll(u.String(), url.QueryEscape(redacted), redacted)
}

// applyCredentials puts user and password into u: the explicit settings win
// over the URL's userinfo and its user/password parameters.
func applyCredentials(u *url.URL, user, pass string) {
	q := u.Query()
	if user == "" {
		if u.User != nil {
			user = u.User.Username()
		} else {
			user = q.Get("user")
		}
	}
	if pass == "" {
		if u.User != nil {
			pass, _ = u.User.Password()
		}
		if pass == "" {
			pass = q.Get("password")
		}
	}
	if q.Has("user") || q.Has("password") {
		q.Del("user")
		q.Del("password")
		u.RawQuery = q.Encode()
	}
	switch {
	case user != "" && pass != "":
		u.User = url.UserPassword(user, pass)
	case user != "":
		u.User = url.User(user)
	case pass != "":
		u.User = url.UserPassword("", pass)
	}
}

func quoteDSN(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
