package helm_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"sigs.k8s.io/yaml"

	"github.com/ospreyhq/osprey/devkit/shared"
)

// kestraValuesName is Kestra's chart 1.x default values file in the shared material (never copied here).
const kestraValuesName = "kestra-helm/values.yaml"

// kestraValuesFile returns the path of Kestra's default values file (beside the repository, or under
// $OSPREY_SHARED_DIR); without it the test is skipped with a message, and fails under CI=true.
func kestraValuesFile(t *testing.T) string { return shared.Dir(t, kestraValuesName) }

// TestKestraDefaultValues renders Kestra's whole default values file, unchanged: it must be accepted, pass the
// API server's checks, and name in NOTES what it sets that Osprey ignores.
func TestKestraDefaultValues(t *testing.T) {
	t.Parallel()
	kestraValues := kestraValuesFile(t)
	r := mustRender(t, readValuesFile(t, kestraValues))
	checkAPIServerRules(t, r)
	c := osprey(t, deployment(t, r, "standalone").Spec.Template.Spec)
	require.Equal(t, "ghcr.io/ospreyhq/osprey:"+loadOspreyChart(t).Metadata.AppVersion, c.Image, "Kestra's own image is replaced, and NOTES says so")
	require.Contains(t, r.Notes, "image.repository kestra/kestra (and its tag): that is Kestra's image")
	require.Contains(t, r.Notes, "serviceAccount.automount is true")
	require.NotContains(t, c.Args, "--worker-thread", "workerThreads: 0 is auto")
	require.Equal(t, int32(120), c.StartupProbe.FailureThreshold, "Kestra's probe values are honoured")
	require.Equal(t, "/health", c.StartupProbe.HTTPGet.Path)
	require.True(t, *c.SecurityContext.ReadOnlyRootFilesystem, "Kestra's empty securityContext keeps Osprey's hardening")
	for _, line := range []string{"- dind:", "- deployments.standalone.dind:"} {
		require.Contains(t, r.Notes, line)
	}
}

// realisticValues are the values files of testdata/values: what Kestra users on AKS write.
func realisticValues(t *testing.T) map[string]map[string]any {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "values", "*.yaml"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(paths), 15)
	out := map[string]map[string]any{}
	for _, p := range paths {
		out[strings.TrimSuffix(filepath.Base(p), ".yaml")] = readValuesFile(t, p)
	}
	return out
}

// TestRealisticValues renders every realistic values file, applies the API server's rules to the result and
// checks what each file is about.
func TestRealisticValues(t *testing.T) {
	t.Parallel()
	checks := map[string]func(t *testing.T, r rendering){
		"01-acr-mirror": func(t *testing.T, r rendering) {
			require.Equal(t, "contoso.azurecr.io/mirror/osprey:1.0.0", osprey(t, deployment(t, r, "standalone").Spec.Template.Spec).Image)
		},
		"02-dind-off": func(t *testing.T, r rendering) {
			require.Len(t, osprey(t, deployment(t, r, "standalone").Spec.Template.Spec).Name, len("osprey"))
			require.Len(t, deployment(t, r, "standalone").Spec.Template.Spec.Containers, 1, "no sidecar")
		},
		"03-split-postgres": func(t *testing.T, r rendering) {
			require.Len(t, podTemplates(r), 4, "the indexer is not rendered")
			require.NotContains(t, osprey(t, deployment(t, r, "worker").Spec.Template.Spec).Args, "--worker-thread")
		},
		"04-worker-autoscaler": func(t *testing.T, r rendering) {
			hpas := ofKind[*autoscalingv2.HorizontalPodAutoscaler](r)
			require.Len(t, hpas, 1)
			require.Equal(t, release+"-worker", hpas[0].Spec.ScaleTargetRef.Name)
			require.Equal(t, int32(10), hpas[0].Spec.MaxReplicas)
			require.Equal(t, int32(600), *hpas[0].Spec.Behavior.ScaleDown.StabilizationWindowSeconds)
			require.Nil(t, deployment(t, r, "worker").Spec.Replicas, "the HPA owns the replica count")
		},
		"05-node-pools": func(t *testing.T, r rendering) {
			spec := deployment(t, r, "worker").Spec.Template.Spec
			require.Equal(t, map[string]string{"kubernetes.io/os": "linux", "agentpool": "spot"}, spec.NodeSelector)
			require.Len(t, spec.Tolerations, 2, "common and worker tolerations both apply")
			require.Len(t, deployment(t, r, "executor").Spec.Template.Spec.Tolerations, 1)
		},
		"06-probes-kestra-form": func(t *testing.T, r rendering) {
			c := osprey(t, deployment(t, r, "standalone").Spec.Template.Spec)
			require.Equal(t, int32(300), c.StartupProbe.FailureThreshold)
			require.Nil(t, c.StartupProbe.HTTPGet, "the deployment's TCP check replaces the HTTP one")
			require.Equal(t, "http", c.StartupProbe.TCPSocket.Port.String())
			require.Equal(t, int32(30), c.LivenessProbe.PeriodSeconds)
			require.Equal(t, int32(10), c.ReadinessProbe.FailureThreshold)
			require.Equal(t, "/health/readiness", c.ReadinessProbe.HTTPGet.Path, "a partial override keeps the rest")
			require.Equal(t, int32(5), c.ReadinessProbe.PeriodSeconds)
		},
		"07-hardened-security": func(t *testing.T, r rendering) {
			spec := deployment(t, r, "standalone").Spec.Template.Spec
			sc := osprey(t, spec).SecurityContext
			require.Equal(t, int64(10001), *sc.RunAsUser)
			require.True(t, *sc.ReadOnlyRootFilesystem, "the hardening block stays")
			require.False(t, *sc.AllowPrivilegeEscalation)
			require.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop)
			require.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, sc.SeccompProfile.Type)
			require.Equal(t, int64(10001), *spec.SecurityContext.FSGroup)
			require.True(t, *spec.SecurityContext.RunAsNonRoot)
		},
		"08-extra-env-expressions": func(t *testing.T, r rendering) {
			e, ok := env(osprey(t, deployment(t, r, "standalone").Spec.Template.Spec), "ENV_GREETING")
			require.True(t, ok)
			require.Equal(t, "Hello {{ inputs.name }}", e.Value, "extraEnv values reach the pod verbatim")
		},
		"09-user-volumes": func(t *testing.T, r rendering) {
			spec := deployment(t, r, "standalone").Spec.Template.Spec
			tmp, ok := volume(spec, "tmp")
			require.True(t, ok)
			require.Equal(t, corev1.StorageMediumMemory, tmp.EmptyDir.Medium)
			require.Equal(t, "tmp", mountAt(osprey(t, spec), "/tmp"), "the user's /tmp replaces the chart's")
			_, ok = volume(spec, "osprey-tmp")
			require.False(t, ok)
			_, ok = volume(spec, "osprey-config")
			require.True(t, ok)
		},
		"10-keyvault-workload-identity": func(t *testing.T, r rendering) {
			p := podTemplates(r)[0]
			require.Equal(t, "true", p.Labels[wiLabel])
			require.Equal(t, "kestra-sa", p.Spec.ServiceAccountName)
		},
		"11-keyvault-env": func(t *testing.T, r rendering) {
			require.Equal(t, "true", podTemplates(r)[0].Labels[wiLabel])
			sas := ofKind[*corev1.ServiceAccount](r)
			require.Len(t, sas, 1)
			require.Equal(t, "22222222-3333-4444-5555-666666666666", sas[0].Annotations["azure.workload.identity/client-id"])
		},
		"12-ingress-tls": func(t *testing.T, r rendering) {
			svc := ofKind[*corev1.Service](r)[0]
			require.Equal(t, corev1.ServiceTypeLoadBalancer, svc.Spec.Type)
			require.Equal(t, int32(80), svc.Spec.Ports[0].Port)
			ing := ofKind[*networkingv1.Ingress](r)[0]
			require.Equal(t, int32(80), ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Port.Number)
		},
		"13-basic-auth-existing-secret": func(t *testing.T, r rendering) {
			require.Empty(t, ofKind[*corev1.Secret](r))
			d := deployment(t, r, "standalone")
			e, _ := env(osprey(t, d.Spec.Template.Spec), "KESTRA_SERVER_BASIC_AUTH_PASSWORD")
			require.Equal(t, "kestra-basic-auth", e.ValueFrom.SecretKeyRef.Name)
			require.Equal(t, "pass", e.ValueFrom.SecretKeyRef.Key)
			require.Equal(t, int32(0), d.Spec.Strategy.RollingUpdate.MaxUnavailable.IntVal)
			require.Equal(t, int32(3), *d.Spec.RevisionHistoryLimit)
		},
		"14-pdb-networkpolicy": func(t *testing.T, r rendering) {
			pdbs := ofKind[*policyv1.PodDisruptionBudget](r)
			require.Len(t, pdbs, 4)
			nps := ofKind[*networkingv1.NetworkPolicy](r)
			require.Len(t, nps, 4)
			for _, np := range nps {
				apiPort := slices.ContainsFunc(np.Spec.Ingress, func(rule networkingv1.NetworkPolicyIngressRule) bool {
					return rule.Ports[0].Port.String() == "http"
				})
				require.Equal(t, np.Name == release+"-webserver", apiPort, "only the webserver takes API traffic: %s", np.Name)
				var egress []string
				for _, e := range np.Spec.Egress {
					for _, p := range e.Ports {
						to := "any"
						if len(e.To) > 0 {
							to = e.To[0].IPBlock.CIDR
						}
						egress = append(egress, fmt.Sprintf("%s/%s->%s", p.Port.String(), *p.Protocol, to))
					}
				}
				require.Equal(t, []string{"53/UDP->any", "53/TCP->any", "5432/TCP->10.20.0.0/24", "443/TCP->0.0.0.0/0"}, egress,
					"DNS, PostgreSQL, and HTTPS for Entra ID and Key Vault only")
			}
		},
		"15-statefulset-persistence": func(t *testing.T, r rendering) {
			require.Len(t, podTemplates(r), 1)
		},
		"16-topology-affinity": func(t *testing.T, r rendering) {
			spec := deployment(t, r, "worker").Spec.Template.Spec
			require.Len(t, spec.TopologySpreadConstraints, 2)
			web := deployment(t, r, "webserver").Spec.Template.Spec
			require.NotNil(t, web.Affinity.NodeAffinity, "the common affinity stays")
			require.NotNil(t, web.Affinity.PodAntiAffinity, "and the webserver's adds to it")
		},
		"18-kestra-security-swapped": func(t *testing.T, r rendering) {
			spec := deployment(t, r, "standalone").Spec.Template.Spec
			require.Equal(t, int64(2000), *spec.SecurityContext.FSGroup, "a pod-only field moves to the pod")
			sc := osprey(t, spec).SecurityContext
			require.Equal(t, int64(1000), *sc.RunAsUser, "a field valid in both stays where written")
			require.Equal(t, []corev1.Capability{"NET_BIND_SERVICE"}, sc.Capabilities.Add, "a container-only field moves to the container")
			require.Nil(t, spec.SecurityContext.SELinuxOptions)
		},
		"17-kestra-configuration-env": func(t *testing.T, r rendering) {
			d := deployment(t, r, "standalone")
			require.Equal(t, int32(2), *d.Spec.Replicas, "PostgreSQL set in KESTRA_CONFIGURATION allows replicas")
			require.Equal(t, "true", d.Spec.Template.Labels[wiLabel])
			require.Contains(t, r.Notes, "common.jvm")
			require.Contains(t, r.Notes, "common.configmapReloader")
		},
	}
	files := realisticValues(t)
	require.Len(t, checks, len(files), "every values file has its checks")
	for name, vals := range files {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := mustRender(t, vals)
			checkAPIServerRules(t, r)
			check, ok := checks[name]
			require.True(t, ok, "no checks for %s", name)
			check(t, r)
		})
	}
}

// TestRenderIsStable: the same values render to the same bytes, as GitOps tools that diff renderings need.
func TestRenderIsStable(t *testing.T) {
	t.Parallel()
	files := realisticValues(t)
	files["defaults"] = nil
	if path, err := shared.Find(kestraValuesName); err == nil {
		files["kestra-defaults"] = readValuesFile(t, path)
	}
	for name, vals := range files {
		first, second := mustRender(t, vals), mustRender(t, vals)
		require.Equal(t, first.Files, second.Files, name)
		require.Equal(t, first.Notes, second.Notes, name)
	}
}

// TestGuards: values that would give a broken deployment fail the render with what to change.
func TestGuards(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, values, want string
	}{
		{name: "split on SQLite", values: `deployments: {standalone: {enabled: false}, webserver: {enabled: true}, worker: {enabled: true}}`,
			want: "deployments webserver, worker are enabled on the sqlite store"},
		{name: "standalone replicas on SQLite", values: `deployments: {standalone: {replicas: 2}}`,
			want: "deployments.standalone asks for more than one replica on the sqlite store"},
		{name: "common replicas on SQLite", values: `common: {replicas: 3}`,
			want: "more than one replica"},
		{name: "standalone autoscaler on SQLite", values: `deployments: {standalone: {autoscaler: {enabled: true}}}`,
			want: "more than one replica"},
		{name: "MySQL is not PostgreSQL", values: `{configurations: {application: {kestra: {repository: {type: mysql}}}}, deployments: {standalone: {enabled: false}, executor: {enabled: true}}}`,
			want: "enabled on the mysql store"},
		{name: "duplicate volume names", values: `
common:
  extraVolumes: [{name: cache, emptyDir: {}}]
deployments:
  standalone:
    extraVolumes: [{name: cache, emptyDir: {}}]`,
			want: `deployments.standalone: two volumes are named "cache"`},
		{name: "duplicate mount paths", values: `
common:
  extraVolumes: [{name: a, emptyDir: {}}, {name: b, emptyDir: {}}]
  extraVolumeMounts: [{name: a, mountPath: /cache}, {name: b, mountPath: /cache}]`,
			want: `two volume mounts use mountPath "/cache"`},
		{name: "mount without a volume", values: `common: {extraVolumeMounts: [{name: nowhere, mountPath: /x}]}`,
			want: `names volume "nowhere", which no volume defines`},
		{name: "Kestra Enterprise worker groups", values: `workerGroups: {gpu: {enabled: true}}`,
			want: "workerGroups are a Kestra Enterprise feature"},
		{name: "typo in a probe", values: `common: {startupProbe: {failureTreshold: 3}}`,
			want: "failureTreshold"},
		{name: "probe on a port nobody opens", values: `deployments: {standalone: {livenessProbe: {httpGet: {port: 9090}}}}`,
			want: `deployments.standalone.livenessProbe probes port "9090", which the container does not open`},
		{name: "probe on a port name nobody declares", values: `common: {readinessProbe: {httpGet: {port: metrics}}}`,
			want: `probes port "metrics"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := renderChart(t, parseValues(t, tt.values), nil)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

// TestWorkloadIdentityWhereverConfigured: the label and annotation follow Key Vault with workload identity
// whether it is set in the application config, extraEnv, KESTRA_CONFIGURATION, or (in a cluster) a Secret
// listed in configurations.secrets.
func TestWorkloadIdentityWhereverConfigured(t *testing.T) {
	t.Parallel()
	scheme := runtime.NewScheme()
	require.NoError(t, corev1.AddToScheme(scheme))
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "kestra-secrets", Namespace: namespace},
		Data: map[string][]byte{"secrets.yml": []byte(
			"kestra:\n  secret:\n    type: azure-key-vault\n    azure-key-vault:\n      workload-identity-client-id: 44444444-5555-6666-7777-888888888888\n")},
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}
	r, err := renderChart(t, parseValues(t, `configurations: {secrets: [{name: kestra-secrets, key: secrets.yml}]}`),
		secretsProvider{dynamicfake.NewSimpleDynamicClient(scheme, ns, secret)})
	require.NoError(t, err)
	require.Equal(t, "true", podTemplates(r)[0].Labels[wiLabel])
	require.Equal(t, "44444444-5555-6666-7777-888888888888", ofKind[*corev1.ServiceAccount](r)[0].Annotations["azure.workload.identity/client-id"])

	r = mustRender(t, parseValues(t, `serviceAccount: {annotations: {azure.workload.identity/client-id: 55555555-6666-7777-8888-999999999999}}`))
	require.Equal(t, "true", podTemplates(r)[0].Labels[wiLabel], "an annotated service account asks for the label")

	r = mustRender(t, nil)
	require.NotContains(t, podTemplates(r)[0].Labels, wiLabel)
}

// TestProbesGolden keeps, per role, the probes and the ports the container opens, and checks that every probe
// targets the port the role's own --management-port serves.
func TestProbesGolden(t *testing.T) {
	t.Parallel()
	r := mustRender(t, readValuesFile(t, filepath.Join("testdata", "values", "03-split-postgres.yaml")))
	standalone := mustRender(t, nil)
	type roleProbes struct {
		Args           []string               `json:"args"`
		Ports          []corev1.ContainerPort `json:"ports"`
		StartupProbe   *corev1.Probe          `json:"startupProbe"`
		LivenessProbe  *corev1.Probe          `json:"livenessProbe"`
		ReadinessProbe *corev1.Probe          `json:"readinessProbe"`
	}
	out := map[string]roleProbes{}
	for _, p := range append(podTemplates(r), podTemplates(standalone)...) {
		c := osprey(t, p.Spec)
		i := slices.Index(c.Args, "--management-port")
		require.GreaterOrEqual(t, i, 0, "%s serves no management port", p.Workload)
		served, err := strconv.Atoi(c.Args[i+1])
		require.NoError(t, err)
		for _, probe := range []*corev1.Probe{c.StartupProbe, c.LivenessProbe, c.ReadinessProbe} {
			require.NotNil(t, probe, p.Workload)
			require.Equal(t, int32(served), containerPort(t, c, probe.HTTPGet.Port.String()), "%s probes %s", p.Workload, probe.HTTPGet.Path)
		}
		out[strings.TrimPrefix(p.Workload, release+"-")] = roleProbes{c.Args, c.Ports, c.StartupProbe, c.LivenessProbe, c.ReadinessProbe}
	}
	require.Len(t, out, 5)
	got, err := yaml.Marshal(out)
	require.NoError(t, err)
	path := goldenPath("probes")
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./deploy/helm -update to create it")
	if string(want) != string(got) {
		t.Fatalf("probes differ from %s; review, then run go test ./deploy/helm -update\n%s", path, firstDifference(string(want), string(got)))
	}
}

// containerPort resolves a probe's port (a name or a number) to a port the container declares.
func containerPort(t *testing.T, c corev1.Container, port string) int32 {
	t.Helper()
	for _, p := range c.Ports {
		if p.Name == port || strconv.Itoa(int(p.ContainerPort)) == port {
			return p.ContainerPort
		}
	}
	require.Failf(t, "probe port not on the container", "%s has no port %q", c.Name, port)
	return 0
}

func mountAt(c corev1.Container, path string) string {
	for _, m := range c.VolumeMounts {
		if m.MountPath == path {
			return m.Name
		}
	}
	return ""
}

// checkAPIServerRules applies the checks the API server makes that strict decoding does not: unique volume
// names and mount paths, mounts that name a volume, probe ports the container opens, selectors that match the
// pod template, and Services, PodDisruptionBudgets and autoscalers that point at what the chart renders.
func checkAPIServerRules(t *testing.T, r rendering) {
	t.Helper()
	require.Empty(t, apiServerProblems(r))
}

// apiServerProblems lists what checkAPIServerRules refuses, sorted.
func apiServerProblems(r rendering) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	workloads := map[string]bool{}
	var podLabels []labels.Set
	for _, d := range podTemplatesWithSelector(r) {
		workloads[d.Workload] = true
		podLabels = append(podLabels, labels.Set(d.Labels))
		sel, err := metav1.LabelSelectorAsSelector(d.Selector)
		if err != nil || !sel.Matches(labels.Set(d.Labels)) {
			bad("%s: selector %v does not match the template labels %v", d.Workload, d.Selector, d.Labels)
		}
		vols := map[string]bool{}
		for _, v := range d.Spec.Volumes {
			if vols[v.Name] {
				bad("%s: duplicate volume %q", d.Workload, v.Name)
			}
			vols[v.Name] = true
		}
		for _, c := range append(append([]corev1.Container{}, d.Spec.InitContainers...), d.Spec.Containers...) {
			paths := map[string]bool{}
			for _, m := range c.VolumeMounts {
				if paths[m.MountPath] {
					bad("%s/%s: duplicate mount path %q", d.Workload, c.Name, m.MountPath)
				}
				paths[m.MountPath] = true
				if !vols[m.Name] {
					bad("%s/%s: mount %q names no volume", d.Workload, c.Name, m.Name)
				}
			}
			for _, p := range []*corev1.Probe{c.StartupProbe, c.LivenessProbe, c.ReadinessProbe} {
				var port string
				switch {
				case p == nil:
					continue
				case p.HTTPGet != nil:
					port = p.HTTPGet.Port.String()
				case p.TCPSocket != nil:
					port = p.TCPSocket.Port.String()
				default:
					continue
				}
				if !slices.ContainsFunc(c.Ports, func(cp corev1.ContainerPort) bool {
					return cp.Name == port || strconv.Itoa(int(cp.ContainerPort)) == port
				}) {
					bad("%s/%s: a probe on port %q the container does not open", d.Workload, c.Name, port)
				}
			}
		}
	}
	matchesAPod := func(sel labels.Selector) bool {
		return slices.ContainsFunc(podLabels, func(l labels.Set) bool { return sel.Matches(l) })
	}
	for _, s := range ofKind[*corev1.Service](r) {
		if !matchesAPod(labels.SelectorFromSet(s.Spec.Selector)) {
			bad("service %s selects no pod", s.Name)
		}
	}
	for _, p := range ofKind[*policyv1.PodDisruptionBudget](r) {
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
		if err != nil || !matchesAPod(sel) {
			bad("pod disruption budget %s selects no pod", p.Name)
		}
		if p.Spec.MinAvailable != nil && p.Spec.MaxUnavailable != nil {
			bad("pod disruption budget %s sets both minAvailable and maxUnavailable", p.Name)
		}
	}
	for _, h := range ofKind[*autoscalingv2.HorizontalPodAutoscaler](r) {
		if !workloads[h.Spec.ScaleTargetRef.Name] {
			bad("autoscaler %s targets %s, which is not rendered", h.Name, h.Spec.ScaleTargetRef.Name)
		}
	}
	sort.Strings(problems)
	return problems
}

// TestAPIServerRulesCatchBreakage shows the checks fail on what the API server or the kubelet would refuse.
func TestAPIServerRulesCatchBreakage(t *testing.T) {
	t.Parallel()
	r := mustRender(t, nil)
	require.Empty(t, apiServerProblems(r))
	d := deployment(t, r, "standalone")
	spec := &d.Spec.Template.Spec
	spec.Volumes = append(spec.Volumes, spec.Volumes[0])
	c := &spec.Containers[0]
	c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "nowhere", MountPath: c.VolumeMounts[0].MountPath})
	c.LivenessProbe.HTTPGet.Port = intstr.FromString("metrics")
	d.Spec.Template.Labels["app.kubernetes.io/component"] = "other"
	problems := apiServerProblems(r)
	require.Len(t, problems, 6, "%q", problems)
	for _, want := range []string{"duplicate volume", "duplicate mount path", "names no volume", `port "metrics"`, "does not match the template labels", "selects no pod"} {
		require.True(t, slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, want) }), "%q not in %q", want, problems)
	}
}

// selectedPod is a pod template with its workload's selector.
type selectedPod struct {
	podTemplate
	Selector *metav1.LabelSelector
}

func podTemplatesWithSelector(r rendering) []selectedPod {
	var out []selectedPod
	for _, d := range ofKind[*appsv1.Deployment](r) {
		out = append(out, selectedPod{podTemplate{d.Name, d.Spec.Template.Labels, d.Spec.Template.Spec}, d.Spec.Selector})
	}
	for _, s := range ofKind[*appsv1.StatefulSet](r) {
		out = append(out, selectedPod{podTemplate{s.Name, s.Spec.Template.Labels, s.Spec.Template.Spec}, s.Spec.Selector})
	}
	return out
}

// TestDocsNameEveryKestraKey keeps docs/deploy-aks.md's table of Kestra's chart keys complete: every key of
// Kestra's default values file (to three levels) is named there, itself, through an ancestor of two or more
// levels, or through a `prefix.*` row.
func TestDocsNameEveryKestraKey(t *testing.T) {
	t.Parallel()
	kestraValues := kestraValuesFile(t)
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "deploy-aks.md"))
	require.NoError(t, err)
	var keys []string
	var walk func(v any, path []string)
	walk = func(v any, path []string) {
		if m, ok := v.(map[string]any); ok && len(m) > 0 && len(path) < 3 {
			for k, child := range m {
				walk(child, append(slices.Clone(path), k))
			}
			return
		}
		keys = append(keys, strings.Join(path, "."))
	}
	walk(readValuesFile(t, kestraValues), nil)
	require.Greater(t, len(keys), 70)
	var missing []string
	for _, k := range keys {
		parts := strings.Split(k, ".")
		named := false
		for n := len(parts); n >= 1 && !named; n-- {
			prefix := strings.Join(parts[:n], ".")
			named = strings.Contains(string(doc), "`"+prefix+".*`") ||
				(n >= 2 || n == len(parts)) && strings.Contains(string(doc), "`"+prefix+"`")
		}
		if !named {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	require.Empty(t, missing, "Kestra chart keys docs/deploy-aks.md does not name")
}
