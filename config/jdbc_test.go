package config_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/config"
)

func TestJDBCURLConversion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, url, user, password string
		want                      string
		notices                   int
	}{
		{name: "Kestra's docker-compose form", url: "jdbc:postgresql://postgres:5432/kestra", user: "kestra", password: "k3stra",
			want: "postgres://kestra:k3stra@postgres:5432/kestra"},
		{name: "default port", url: "jdbc:postgresql://db/kestra", want: "postgres://db/kestra"},
		{name: "no host", url: "jdbc:postgresql:kestra", want: "postgres://localhost/kestra"},
		{name: "parameters translated", url: "jdbc:postgresql://db:5432/kestra?ssl=true&currentSchema=osprey&ApplicationName=osprey&connectTimeout=5",
			want: "postgres://db:5432/kestra?application_name=osprey&connect_timeout=5&search_path=osprey&sslmode=require"},
		{name: "explicit sslmode wins over ssl", url: "jdbc:postgresql://db/kestra?ssl=true&sslmode=verify-full",
			want: "postgres://db/kestra?sslmode=verify-full"},
		{name: "credentials from parameters", url: "jdbc:postgresql://db/kestra?user=u&password=p%40ss",
			want: "postgres://u:p%40ss@db/kestra"},
		{name: "explicit credentials win over the URL's", url: "jdbc:postgresql://db/kestra?user=u&password=p", user: "v", password: "q",
			want: "postgres://v:q@db/kestra"},
		{name: "several hosts", url: "jdbc:postgresql://db1:5432,db2:5432/kestra?targetServerType=primary",
			want: "postgres://db1:5432,db2:5432/kestra?target_session_attrs=read-write"},
		{name: "JDBC-only parameters dropped with a notice", url: "jdbc:postgresql://db/kestra?prepareThreshold=0&reWriteBatchedInserts=true",
			want: "postgres://db/kestra", notices: 2},
		{name: "postgres URL kept", url: "postgresql://u@db:5433/kestra?sslmode=disable", password: "p w",
			want: "postgres://u:p%20w@db:5433/kestra?sslmode=disable"},
		{name: "password needing escapes", url: "postgres://db/kestra", user: "u", password: "a@b:c/d",
			want: "postgres://u:a%40b%3Ac%2Fd@db/kestra"},
		{name: "key=value DSN", url: "host=db dbname=kestra", user: "u", password: "it's",
			want: `host=db dbname=kestra user='u' password='it\'s'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := []string{"KESTRA_REPOSITORY_TYPE=postgres", "DATASOURCES_POSTGRES_URL=" + tt.url}
			if tt.user != "" {
				env = append(env, "DATASOURCES_POSTGRES_USERNAME="+tt.user)
			}
			if tt.password != "" {
				env = append(env, "DATASOURCES_POSTGRES_PASSWORD="+tt.password)
			}
			cfg, warns := load(t, config.Sources{Env: env})
			require.Len(t, warns, tt.notices)
			conn, err := cfg.Datasource.ConnString()
			require.NoError(t, err)
			require.Equal(t, tt.want, conn.Reveal())
			require.Equal(t, "******", conn.String())
			if tt.password != "" {
				require.NotContains(t, cfg.Datasource.Redacted(), tt.password)
				require.NotContains(t, cfg.Datasource.URL.String(), "p%40ss")
			}
		})
	}
}

func TestConnURLRedaction(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"jdbc:postgresql://db/k?user=u&password=hunter2": "jdbc:postgresql://db/k?password=******&user=u",
		"postgres://u:hunter2@db/k":                      "postgres://u:******@db/k",
		"host=db password='hunt er2' user=u":             "host=db password=****** user=u",
		"host=db password=hunter2":                       "host=db password=******",
		"postgres://u:hunter2@db/%zz":                    "******",
		"postgres://db/k":                                "postgres://db/k",
	} {
		require.Equal(t, want, config.NewConnURL(in).String(), in)
	}
}
