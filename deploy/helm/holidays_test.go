package helm_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// TestHolidayCalendarsFromAConfigMap renders the values docs/triggers.md
// gives for supplied holiday calendars: a ConfigMap of .ics files mounted
// with common.extraVolumes in every component (each reads the calendars at
// start), and osprey.holidays.directory naming the mount.
func TestHolidayCalendarsFromAConfigMap(t *testing.T) {
	t.Parallel()
	const dir = "/etc/osprey/holidays"
	r := mustRender(t, parseValues(t, `
configurations:
  application:
    kestra: {repository: {type: postgres}}
    datasources: {postgres: {url: "jdbc:postgresql://db:5432/kestra"}}
    osprey:
      holidays:
        directory: /etc/osprey/holidays
common:
  extraVolumes:
    - name: holidays
      configMap: {name: osprey-holidays}
  extraVolumeMounts:
    - {name: holidays, mountPath: /etc/osprey/holidays, readOnly: true}
deployments:
  standalone: {enabled: false}
  webserver: {enabled: true}
  executor: {enabled: true}
  scheduler: {enabled: true}
  worker: {enabled: true}
`))
	checkAPIServerRules(t, r)
	for _, component := range []string{"webserver", "executor", "scheduler", "worker"} {
		spec := deployment(t, r, component).Spec.Template.Spec
		c := osprey(t, spec)
		require.Equal(t, "holidays", mountAt(c, dir), "%s mounts the calendars", component)
		v, ok := volume(spec, "holidays")
		require.True(t, ok, component)
		require.Equal(t, "osprey-holidays", v.ConfigMap.Name)
		files, ok := env(c, "OSPREY_CONFIG_FILES")
		require.True(t, ok)
		require.Contains(t, files.Value, "/etc/osprey/config/application.yml", "%s reads the application configuration", component)
	}
	var app struct {
		Osprey struct {
			Holidays struct {
				Directory string `json:"directory"`
			} `json:"holidays"`
		} `json:"osprey"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(configMap(t, r, release+"-config").Data["application.yml"]), &app))
	require.Equal(t, dir, app.Osprey.Holidays.Directory)
}
