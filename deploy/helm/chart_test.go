package helm_test

import (
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"sigs.k8s.io/yaml"

	"github.com/ospreyhq/osprey/deploy/image"
	"github.com/ospreyhq/osprey/devkit/shared"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

const wiLabel = "azure.workload.identity/use"

// TestGuideValues renders the values of Kestra's Azure Key Vault guide, unchanged: they must give pods that run
// as the federated service account, carry the Workload Identity label and read exactly the configuration given.
func TestGuideValues(t *testing.T) {
	t.Parallel()
	guide := readValuesFile(t, filepath.Join("testdata", "guide-values.yaml"))

	split := readValuesFile(t, filepath.Join("testdata", "guide-values.yaml"))
	split["common"] = parseValues(t, `extraEnv: [{name: KESTRA_REPOSITORY_TYPE, value: postgres}]`)
	split["deployments"] = parseValues(t, `
standalone: {enabled: false}
webserver: {enabled: true}
executor: {enabled: true}
scheduler: {enabled: true}
worker: {enabled: true, workerThreads: 8}
`)

	tests := []struct {
		name string
		vals map[string]any
		pods int
	}{
		{name: "standalone", vals: guide, pods: 1},
		{name: "split components", vals: split, pods: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := mustRender(t, tt.vals)

			require.Empty(t, ofKind[*corev1.ServiceAccount](r), "create: false must not render a ServiceAccount")

			pods := podTemplates(r)
			require.Len(t, pods, tt.pods)
			for _, p := range pods {
				require.Equal(t, "kestra-sa", p.Spec.ServiceAccountName, p.Workload)
				require.Equal(t, "true", p.Labels[wiLabel], p.Workload)
				c := osprey(t, p.Spec)
				files, ok := env(c, "OSPREY_CONFIG_FILES")
				require.True(t, ok, p.Workload)
				require.Equal(t, "/etc/osprey/config/application.yml", files.Value)
				require.Equal(t, "/etc/osprey/config", mountPath(c, "osprey-config"))
				v, ok := volume(p.Spec, "osprey-config")
				require.True(t, ok)
				require.Equal(t, release+"-config", v.ConfigMap.Name)
			}

			cm := configMap(t, r, release+"-config")
			var mounted map[string]any
			require.NoError(t, yaml.Unmarshal([]byte(cm.Data["application.yml"]), &mounted))
			given := guide["configurations"].(map[string]any)["application"]
			require.Equal(t, given, mounted)
		})
	}
}

// TestWorkloadIdentityLabelCannotBeForgotten covers what Kestra's charts up to 0.19 got wrong: the label comes
// from the config alone, whatever podLabels say, and a chart-made service account names the client id.
func TestWorkloadIdentityLabelCannotBeForgotten(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		values string
		doctor string // where NOTES says to run the doctor
	}{
		{name: "camel case, no podLabels", doctor: "deploy/osprey-standalone", values: `
configurations:
  application:
    kestra:
      secret:
        type: azure-key-vault
        azureKeyVault: {vaultName: v, workloadIdentityClientId: 11111111-2222-3333-4444-555555555555}
`},
		{name: "kebab case, label set to false", doctor: "deploy/osprey-worker", values: `
configurations:
  application:
    kestra:
      secret:
        type: azure-key-vault
        azure-key-vault: {vault-name: v, workload-identity-client-id: 11111111-2222-3333-4444-555555555555}
common:
  podLabels: {azure.workload.identity/use: "false"}
  extraEnv: [{name: KESTRA_REPOSITORY_TYPE, value: postgres}]
deployments:
  standalone: {enabled: false}
  webserver: {enabled: true}
  worker: {enabled: true}
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := mustRender(t, parseValues(t, tt.values))
			sas := ofKind[*corev1.ServiceAccount](r)
			require.Len(t, sas, 1)
			require.Equal(t, release, sas[0].Name)
			require.Equal(t, "11111111-2222-3333-4444-555555555555", sas[0].Annotations["azure.workload.identity/client-id"])
			for _, p := range podTemplates(r) {
				require.Equal(t, "true", p.Labels[wiLabel], p.Workload)
				require.Equal(t, release, p.Spec.ServiceAccountName)
			}
			require.Contains(t, r.Notes, "exec "+tt.doctor+" -- /osprey secrets doctor")
		})
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	r := mustRender(t, nil)

	pods := podTemplates(r)
	require.Len(t, pods, 1, "standalone only")
	d := deployment(t, r, "standalone")
	require.Equal(t, int32(1), *d.Spec.Replicas)
	spec := d.Spec.Template.Spec
	require.NotContains(t, d.Spec.Template.Labels, wiLabel, "no Workload Identity without azure-key-vault")
	require.Equal(t, release, spec.ServiceAccountName)

	sas := ofKind[*corev1.ServiceAccount](r)
	require.Len(t, sas, 1)
	require.NotContains(t, sas[0].Annotations, "azure.workload.identity/client-id")

	c := osprey(t, spec)
	require.Equal(t, []string{"server", "standalone", "--port", "8080", "--management-port", "8081", "--management-host", "0.0.0.0", "--shutdown-grace", "50s"}, c.Args,
		"running task runs drain for most of the 60s grace period")
	require.Equal(t, "ghcr.io/ospreyhq/osprey:"+loadOspreyChart(t).Metadata.AppVersion, c.Image)

	// Probes on the management port.
	require.Equal(t, "/health/liveness", c.LivenessProbe.HTTPGet.Path)
	require.Equal(t, "/health/readiness", c.ReadinessProbe.HTTPGet.Path)
	require.Equal(t, "/health", c.StartupProbe.HTTPGet.Path)
	for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
		require.Equal(t, "management", p.HTTPGet.Port.String())
	}
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	require.Equal(t, map[string]int32{"http": 8080, "management": 8081}, ports)

	// Secure pod defaults, and a writable /tmp (where the task temp dir lives) on a read-only root.
	require.True(t, *spec.SecurityContext.RunAsNonRoot)
	require.Equal(t, int64(image.UID), *spec.SecurityContext.RunAsUser, "the image's user")
	require.Equal(t, "RuntimeDefault", string(spec.SecurityContext.SeccompProfile.Type))
	sc := c.SecurityContext
	require.True(t, *sc.ReadOnlyRootFilesystem)
	require.False(t, *sc.AllowPrivilegeEscalation)
	require.True(t, *sc.RunAsNonRoot)
	require.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop)
	require.Equal(t, "/tmp", mountPath(c, "osprey-tmp"))
	tmp, ok := volume(spec, "osprey-tmp")
	require.True(t, ok)
	require.NotNil(t, tmp.EmptyDir)
	require.Equal(t, int64(60), *spec.TerminationGracePeriodSeconds)
	require.NotEmpty(t, d.Spec.Template.Annotations["checksum/config"])

	// The API is reachable through the Service and protected with generated credentials.
	svcs := ofKind[*corev1.Service](r)
	require.Len(t, svcs, 1)
	require.Equal(t, "standalone", svcs[0].Spec.Selector["app.kubernetes.io/component"])
	require.Equal(t, int32(8080), svcs[0].Spec.Ports[0].Port)

	// Rendered without a cluster, no generated password (it would change on every render): the pods wait for
	// the Secret NOTES says how to create.
	require.Empty(t, ofKind[*corev1.Secret](r))
	for _, name := range []string{"KESTRA_SERVER_BASIC_AUTH_USERNAME", "KESTRA_SERVER_BASIC_AUTH_PASSWORD"} {
		e, ok := env(c, name)
		require.True(t, ok, name)
		require.Equal(t, release+"-basic-auth", e.ValueFrom.SecretKeyRef.Name)
	}
	require.Contains(t, r.Notes, "kubectl -n "+namespace+" create secret generic "+release+"-basic-auth")
	require.False(t, *spec.AutomountServiceAccountToken, "Osprey never calls the Kubernetes API")
}

// basicAuthSecret returns the Secret the chart renders for basic auth, with decoded data.
func basicAuthSecret(t *testing.T, r rendering) *corev1.Secret {
	t.Helper()
	for _, s := range ofKind[*corev1.Secret](r) {
		if s.Name == release+"-basic-auth" {
			return s
		}
	}
	require.Fail(t, "no basic-auth Secret rendered")
	return nil
}

func TestSplitComponents(t *testing.T) {
	t.Parallel()
	r := mustRender(t, parseValues(t, `
common:
  podLabels: {team: data, generation: 2, canary: false}
  podAnnotations: {prometheus.io/port: 8081}
  labels: {tier: backend}
  resources: {requests: {cpu: 100m}}
  extraEnv: [{name: COMMON, value: "1"}, {name: KESTRA_REPOSITORY_TYPE, value: postgres}]
deployments:
  standalone: {enabled: false}
  webserver: {enabled: true, replicas: 2, podLabels: {role: api}}
  executor: {enabled: true}
  scheduler: {enabled: true, extraArgs: [--log-level, DEBUG]}
  worker:
    enabled: true
    workerThreads: 32
    resources: {requests: {cpu: "2"}}
    extraEnv: [{name: WORKER_ONLY, value: "1"}]
    terminationGracePeriodSeconds: 600
`))
	pods := podTemplates(r)
	require.Len(t, pods, 4)
	wantArgs := map[string][]string{
		"webserver": {"server", "webserver", "--port", "8080", "--management-port", "8081", "--management-host", "0.0.0.0", "--shutdown-grace", "50s"},
		"executor":  {"server", "executor", "--management-port", "8081", "--management-host", "0.0.0.0", "--shutdown-grace", "50s"},
		"scheduler": {"server", "scheduler", "--management-port", "8081", "--management-host", "0.0.0.0", "--shutdown-grace", "50s", "--log-level", "DEBUG"},
		"worker":    {"server", "worker", "--worker-thread", "32", "--management-port", "8081", "--management-host", "0.0.0.0", "--shutdown-grace", "590s"},
	}
	for component, args := range wantArgs {
		d := deployment(t, r, component)
		c := osprey(t, d.Spec.Template.Spec)
		require.Equal(t, args, c.Args, component)
		require.Equal(t, component, d.Spec.Selector.MatchLabels["app.kubernetes.io/component"])
		require.Equal(t, "data", d.Spec.Template.Labels["team"], "common podLabels on %s", component)
		require.Equal(t, "2", d.Spec.Template.Labels["generation"], "unquoted values become strings")
		require.Equal(t, "false", d.Spec.Template.Labels["canary"])
		require.Equal(t, "8081", d.Spec.Template.Annotations["prometheus.io/port"])
		require.Equal(t, "backend", d.Labels["tier"], "common labels on %s", component)
		_, ok := env(c, "COMMON")
		require.True(t, ok, component)
	}

	web := deployment(t, r, "webserver")
	require.Equal(t, int32(2), *web.Spec.Replicas)
	require.Equal(t, "api", web.Spec.Template.Labels["role"], "deployment podLabels add to common ones")
	webCPU := osprey(t, web.Spec.Template.Spec).Resources.Requests[corev1.ResourceCPU]
	require.Equal(t, "100m", webCPU.String())

	worker := deployment(t, r, "worker")
	wc := osprey(t, worker.Spec.Template.Spec)
	workerCPU := wc.Resources.Requests[corev1.ResourceCPU]
	require.Equal(t, "2", workerCPU.String(), "deployment resources replace common ones")
	require.Equal(t, int64(600), *worker.Spec.Template.Spec.TerminationGracePeriodSeconds)
	_, ok := env(wc, "WORKER_ONLY")
	require.True(t, ok)
	_, ok = env(osprey(t, web.Spec.Template.Spec), "WORKER_ONLY")
	require.False(t, ok, "deployment env stays on its deployment")

	svcs := ofKind[*corev1.Service](r)
	require.Len(t, svcs, 1)
	require.Equal(t, "webserver", svcs[0].Spec.Selector["app.kubernetes.io/component"])
}

// TestDataDirectory: the binary keeps SQLite and generated keys in ./data under its working directory, which a
// read-only root filesystem must leave writable; with persistence the standalone keeps it across restarts.
func TestDataDirectory(t *testing.T) {
	t.Parallel()
	r := mustRender(t, nil)
	spec := deployment(t, r, "standalone").Spec.Template.Spec
	require.Equal(t, image.HomeDir+"/data", mountPath(osprey(t, spec), "osprey-data"), "./data under the image's working directory")
	data, ok := volume(spec, "osprey-data")
	require.True(t, ok)
	require.NotNil(t, data.EmptyDir)
	require.Contains(t, r.Notes, "WARNING: the standalone keeps its SQLite database on an emptyDir")

	r = mustRender(t, parseValues(t, `persistence: {enabled: true, size: 20Gi, storageClass: managed-csi}`))
	d := deployment(t, r, "standalone")
	data, ok = volume(d.Spec.Template.Spec, "osprey-data")
	require.True(t, ok)
	require.Equal(t, release+"-data", data.PersistentVolumeClaim.ClaimName)
	require.Equal(t, "Recreate", string(d.Spec.Strategy.Type), "a ReadWriteOnce volume cannot follow a rolling update")
	pvcs := ofKind[*corev1.PersistentVolumeClaim](r)
	require.Len(t, pvcs, 1)
	size := pvcs[0].Spec.Resources.Requests[corev1.ResourceStorage]
	require.Equal(t, "20Gi", size.String())
	require.Equal(t, "managed-csi", *pvcs[0].Spec.StorageClassName)
	require.NotContains(t, r.Notes, "WARNING")

	r = mustRender(t, parseValues(t, `persistence: {enabled: true, existingClaim: my-claim}`))
	require.Empty(t, ofKind[*corev1.PersistentVolumeClaim](r))
	data, ok = volume(deployment(t, r, "standalone").Spec.Template.Spec, "osprey-data")
	require.True(t, ok)
	require.Equal(t, "my-claim", data.PersistentVolumeClaim.ClaimName)
}

func TestWorkerThreads(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		values    string
		component string
		want      []string
	}{
		{name: "standalone", values: `deployments: {standalone: {workerThreads: 4}}`,
			component: "standalone", want: []string{"server", "standalone", "--worker-thread", "4", "--port", "8080", "--management-port", "8081", "--management-host", "0.0.0.0", "--shutdown-grace", "50s"}},
		{name: "worker", values: `{common: {extraEnv: [{name: KESTRA_REPOSITORY_TYPE, value: postgres}]}, deployments: {standalone: {enabled: false}, worker: {enabled: true, workerThreads: 256}}}`,
			component: "worker", want: []string{"server", "worker", "--worker-thread", "256", "--management-port", "8081", "--management-host", "0.0.0.0", "--shutdown-grace", "50s"}},
		{name: "worker with extra args", values: `deployments: {standalone: {workerThreads: 2, extraArgs: [--log-level, WARN]}}`,
			component: "standalone", want: []string{"server", "standalone", "--worker-thread", "2", "--port", "8080", "--management-port", "8081", "--management-host", "0.0.0.0", "--shutdown-grace", "50s", "--log-level", "WARN"}},
		{name: "unset", values: `deployments: {standalone: {workerThreads: null}}`,
			component: "standalone", want: []string{"server", "standalone", "--port", "8080", "--management-port", "8081", "--management-host", "0.0.0.0", "--shutdown-grace", "50s"}},
		{name: "Kestra's auto", values: `deployments: {standalone: {workerThreads: 0}}`,
			component: "standalone", want: []string{"server", "standalone", "--port", "8080", "--management-port", "8081", "--management-host", "0.0.0.0", "--shutdown-grace", "50s"}},
		{name: "Kestra's auto as a string", values: `deployments: {standalone: {workerThreads: "0"}}`,
			component: "standalone", want: []string{"server", "standalone", "--port", "8080", "--management-port", "8081", "--management-host", "0.0.0.0", "--shutdown-grace", "50s"}},
		{name: "short grace period", values: `common: {terminationGracePeriodSeconds: 8}`,
			component: "standalone", want: []string{"server", "standalone", "--port", "8080", "--management-port", "8081", "--management-host", "0.0.0.0", "--shutdown-grace", "6s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := mustRender(t, parseValues(t, tt.values))
			require.Equal(t, tt.want, osprey(t, deployment(t, r, tt.component).Spec.Template.Spec).Args)
		})
	}
}

func TestExtraConfigMapsAndSecrets(t *testing.T) {
	t.Parallel()
	r := mustRender(t, parseValues(t, `
configurations:
  application: {kestra: {url: https://osprey.example.com}}
  configmaps:
    - {name: osprey-others, key: others.yml}
  secrets:
    - {name: osprey-datasource, key: datasource.yml}
    - {name: osprey-smtp, key: smtp.yml}
`))
	d := deployment(t, r, "standalone")
	spec := d.Spec.Template.Spec
	c := osprey(t, spec)
	files, ok := env(c, "OSPREY_CONFIG_FILES")
	require.True(t, ok)
	want := []string{
		"/etc/osprey/config/application.yml",
		"/etc/osprey/configmaps/0-osprey-others/others.yml",
		"/etc/osprey/secrets/0-osprey-datasource/datasource.yml",
		"/etc/osprey/secrets/1-osprey-smtp/smtp.yml",
	}
	require.Equal(t, strings.Join(want, ","), files.Value)

	// Every listed file is where a volume puts it.
	cm, ok := volume(spec, "osprey-configmap-0")
	require.True(t, ok)
	require.Equal(t, "osprey-others", cm.ConfigMap.Name)
	require.Equal(t, []corev1.KeyToPath{{Key: "others.yml", Path: "others.yml"}}, cm.ConfigMap.Items)
	require.Equal(t, filepath.Dir(want[1]), mountPath(c, "osprey-configmap-0"))
	for i, name := range []string{"osprey-datasource", "osprey-smtp"} {
		v, ok := volume(spec, fmt.Sprintf("osprey-secret-%d", i))
		require.True(t, ok)
		require.Equal(t, name, v.Secret.SecretName)
		require.Equal(t, v.Secret.Items[0].Path, filepath.Base(want[2+i]))
		require.Equal(t, filepath.Dir(want[2+i]), mountPath(c, v.Name))
	}
}

func TestBasicAuth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		values     string
		wantSecret map[string]string // nil: the chart renders no Secret
		wantEnvRef string            // Secret the env refers to; "": no basic-auth env
	}{
		{name: "given credentials", values: `basicAuth: {username: ops@example.com, password: s3cret-pass}`,
			wantSecret: map[string]string{"username": "ops@example.com", "password": "s3cret-pass"},
			wantEnvRef: release + "-basic-auth"},
		{name: "existing secret", values: `basicAuth: {existingSecret: my-auth, usernameKey: user, passwordKey: pass}`,
			wantEnvRef: "my-auth"},
		{name: "in the application config", values: `
configurations:
  application: {kestra: {server: {basic-auth: {username: a@example.com, password: from-config}}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := mustRender(t, parseValues(t, tt.values))
			secrets := ofKind[*corev1.Secret](r)
			if tt.wantSecret == nil {
				require.Empty(t, secrets)
			} else {
				got := map[string]string{}
				for k, v := range basicAuthSecret(t, r).Data {
					got[k] = string(v)
				}
				require.Equal(t, tt.wantSecret, got)
			}
			c := osprey(t, deployment(t, r, "standalone").Spec.Template.Spec)
			e, ok := env(c, "KESTRA_SERVER_BASIC_AUTH_PASSWORD")
			require.Equal(t, tt.wantEnvRef != "", ok)
			if ok {
				require.Equal(t, tt.wantEnvRef, e.ValueFrom.SecretKeyRef.Name)
			}
			for _, e := range c.Env {
				require.NotEqual(t, "s3cret-pass", e.Value, "a password never sits in the pod spec")
			}
		})
	}
}

// TestGeneratedCredentialsSurviveUpgrade renders against a cluster that already holds the generated Secret, as
// `helm upgrade` does: the password must be read back, not generated again.
func TestGeneratedCredentialsSurviveUpgrade(t *testing.T) {
	t.Parallel()
	scheme := runtime.NewScheme()
	require.NoError(t, corev1.AddToScheme(scheme))
	existing := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: release + "-basic-auth", Namespace: namespace},
		Data:       map[string][]byte{"username": []byte("admin@osprey.local"), "password": []byte("KeptAcrossUpgrades0123456789abcd")},
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}
	client := dynamicfake.NewSimpleDynamicClient(scheme, ns, existing)
	r, err := renderChart(t, nil, secretsProvider{client})
	require.NoError(t, err)
	require.Equal(t, "KeptAcrossUpgrades0123456789abcd", string(basicAuthSecret(t, r).Data["password"]))

	fresh, err := renderChart(t, nil, secretsProvider{dynamicfake.NewSimpleDynamicClient(scheme, ns)})
	require.NoError(t, err)
	require.NotEqual(t, "KeptAcrossUpgrades0123456789abcd", string(basicAuthSecret(t, fresh).Data["password"]))
}

// secretsProvider answers the chart's lookups from a fake cluster.
type secretsProvider struct{ client dynamic.Interface }

func (p secretsProvider) GetClientFor(apiVersion, kind string) (dynamic.NamespaceableResourceInterface, bool, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, false, err
	}
	return p.client.Resource(gv.WithResource(strings.ToLower(kind) + "s")), true, nil
}

func TestFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		values string
		want   string
	}{
		{name: "legacy configuration key", values: `configuration: {kestra: {url: http://x}}`,
			want: "move its content under 'configurations.application'"},
		{name: "workload identity without service account name", values: `
configurations:
  application:
    kestra: {secret: {type: azure-key-vault, azureKeyVault: {vaultName: v, workloadIdentityClientId: 00000000-0000-0000-0000-000000000000}}}
serviceAccount: {create: false}`,
			want: "set serviceAccount.name"},
		{name: "kebab-case workload identity without service account name", values: `
configurations:
  application:
    kestra: {secret: {type: azure-key-vault, azure-key-vault: {workload-identity-client-id: 00000000-0000-0000-0000-000000000000}}}
serviceAccount: {create: false, name: ""}`,
			want: "set serviceAccount.name"},
		{name: "no component enabled", values: `deployments: {standalone: {enabled: false}}`,
			want: "no Osprey component is enabled"},
		{name: "worker threads on a component that runs no tasks", values: `deployments: {executor: {enabled: true, workerThreads: 4}}`,
			want: "at '/deployments/executor': additional properties 'workerThreads' not allowed"},
		{name: "typo in a top-level key", values: `serviceAcount: {create: false}`,
			want: "serviceAcount"},
		{name: "typo in a common key", values: `common: {podLabel: {a: b}}`,
			want: "podLabel"},
		{name: "typo in a deployment key", values: `deployments: {worker: {workerThread: 4}}`,
			want: "workerThread"},
		{name: "unknown kind", values: `common: {kind: DaemonSet}`,
			want: "kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := renderChart(t, parseValues(t, tt.values), nil)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestStatefulSetIngressAndExtraManifests(t *testing.T) {
	t.Parallel()
	r := mustRender(t, parseValues(t, `
common: {kind: StatefulSet}
ingress:
  enabled: true
  className: nginx
  hosts: [{host: osprey.example.com, paths: [{path: /}]}]
  tls: [{hosts: [osprey.example.com], secretName: osprey-tls}]
extraManifests:
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: "{{ .Release.Name }}-extra"}
    data: {a: b}
  - |
    apiVersion: v1
    kind: Secret
    metadata:
      name: {{ .Release.Name }}-extra
    stringData: {token: abc}
`))
	pods := podTemplates(r)
	require.Len(t, pods, 1)
	require.Equal(t, release+"-standalone", pods[0].Workload)
	sts := ofKind[*appsv1.StatefulSet](r)
	require.Len(t, sts, 1)
	require.Equal(t, release, sts[0].Spec.ServiceName)
	ings := ofKind[*networkingv1.Ingress](r)
	require.Len(t, ings, 1)
	rule := ings[0].Spec.Rules[0]
	require.Equal(t, "osprey.example.com", rule.Host)
	require.Equal(t, release, rule.HTTP.Paths[0].Backend.Service.Name)
	require.Equal(t, int32(8080), rule.HTTP.Paths[0].Backend.Service.Port.Number)
	require.Equal(t, "b", configMap(t, r, release+"-extra").Data["a"])
	var extraSecret *corev1.Secret
	for _, s := range ofKind[*corev1.Secret](r) {
		if s.Name == release+"-extra" {
			extraSecret = s
		}
	}
	require.NotNil(t, extraSecret, "a manifest given as a string goes through tpl too")
	require.Equal(t, "abc", extraSecret.StringData["token"])
}

func TestLint(t *testing.T) {
	t.Parallel()
	all := []map[string]any{nil, readValuesFile(t, filepath.Join("testdata", "guide-values.yaml"))}
	for _, vals := range realisticValues(t) {
		all = append(all, vals)
	}
	if path, err := shared.Find(kestraValuesName); err == nil {
		all = append(all, readValuesFile(t, path))
	}
	for _, vals := range all {
		linter := lint.All(chartDir, vals, namespace, false)
		var problems []string
		for _, m := range linter.Messages {
			if m.Severity > support.InfoSev {
				problems = append(problems, m.Error())
			}
		}
		require.Empty(t, problems)
	}
}

// TestSchemaDeploymentsTakeCommonKeys keeps values.schema.json honest: every common key can be set per deployment.
func TestSchemaDeploymentsTakeCommonKeys(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	require.NoError(t, err)
	type node struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	var s struct {
		Properties struct {
			Common      node `json:"common"`
			Deployments struct {
				Properties map[string]node `json:"properties"`
			} `json:"deployments"`
		} `json:"properties"`
	}
	require.NoError(t, json.Unmarshal(data, &s))
	common := s.Properties.Common.Properties
	require.Contains(t, common, "podLabels")
	deployments := s.Properties.Deployments.Properties
	require.Len(t, deployments, 6)
	for name, d := range deployments {
		if name == "indexer" {
			continue // Kestra's, accepted with no effect
		}
		for key := range common {
			require.Contains(t, d.Properties, key, "deployments.%s", name)
		}
		require.Contains(t, d.Properties, "enabled")
		require.Contains(t, d.Properties, "extraArgs")
	}
}

// generatedPassword hides the one random value of a rendering so golden files stay stable.
var generatedPassword = regexp.MustCompile(`(?m)^(  password: )"[A-Za-z0-9+/=]+"$`)

func TestGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		vals func(t *testing.T) map[string]any
	}{
		{name: "defaults", vals: func(*testing.T) map[string]any { return nil }},
		{name: "aks-split", vals: func(t *testing.T) map[string]any {
			return readValuesFile(t, filepath.Join("testdata", "aks-split-values.yaml"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := mustRender(t, tt.vals(t))
			names := make([]string, 0, len(r.Files))
			for name := range r.Files {
				names = append(names, name)
			}
			sort.Strings(names)
			var b strings.Builder
			for _, name := range names {
				text := r.Files[name]
				if strings.HasSuffix(name, "basic-auth-secret.yaml") {
					text = generatedPassword.ReplaceAllString(text, `$1"`+base64.StdEncoding.EncodeToString([]byte("<generated>"))+`"`)
				}
				b.WriteString("# Source: " + name + "\n" + strings.TrimSpace(text) + "\n---\n")
			}
			got := b.String()
			path := goldenPath(tt.name)
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test ./deploy/helm -update to create it")
			if string(want) != got {
				t.Fatalf("rendering differs from %s; review, then run go test ./deploy/helm -update\n%s", path, firstDifference(string(want), got))
			}
		})
	}
}

// firstDifference shows where two renderings part, with a few lines of context, instead of both in full.
func firstDifference(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	from := max(i-3, 0)
	window := func(lines []string) string { return strings.Join(lines[from:min(i+4, len(lines))], "\n") }
	return fmt.Sprintf("line %d\n--- want\n%s\n+++ got\n%s", i+1, window(w), window(g))
}
