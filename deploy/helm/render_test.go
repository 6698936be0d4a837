package helm_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

const (
	chartDir  = "osprey"
	release   = "osprey"
	namespace = "orchestration"
)

var (
	chartOnce   sync.Once
	loadedChart *chart.Chart
	chartErr    error
)

// loadOspreyChart loads the chart once per test binary: loading parses every template and the schema.
func loadOspreyChart(t *testing.T) *chart.Chart {
	t.Helper()
	chartOnce.Do(func() { loadedChart, chartErr = loader.Load(chartDir) })
	require.NoError(t, chartErr)
	return loadedChart
}

// manifest is one rendered Kubernetes object, decoded strictly into its API type.
type manifest struct {
	Source string // template file that rendered it
	Kind   string
	Name   string
	Object any
}

// rendering is the result of rendering the chart: its objects and NOTES.txt.
type rendering struct {
	Manifests []manifest
	Notes     string
	Files     map[string]string // template path → rendered text, for golden files
}

// parseValues reads a values document the way `helm -f` does.
func parseValues(t *testing.T, doc string) map[string]any {
	t.Helper()
	vals, err := chartutil.ReadValues([]byte(doc))
	require.NoError(t, err)
	return vals.AsMap()
}

func readValuesFile(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return parseValues(t, string(data))
}

// renderChart renders the chart as `helm install` would, with lookups answered by provider (nil: no cluster).
func renderChart(t *testing.T, vals map[string]any, provider engine.ClientProvider) (rendering, error) {
	t.Helper()
	chrt := loadOspreyChart(t)
	top, err := chartutil.ToRenderValues(chrt, vals, chartutil.ReleaseOptions{
		Name: release, Namespace: namespace, IsInstall: true, Revision: 1,
	}, chartutil.DefaultCapabilities)
	if err != nil {
		return rendering{}, fmt.Errorf("compose values: %w", err)
	}
	var files map[string]string
	if provider != nil {
		files, err = engine.RenderWithClientProvider(chrt, top, provider)
	} else {
		files, err = engine.Render(chrt, top)
	}
	if err != nil {
		return rendering{}, fmt.Errorf("render: %w", err)
	}
	r := rendering{Files: map[string]string{}}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		text := files[name]
		if strings.HasSuffix(name, "NOTES.txt") {
			r.Notes = text
			continue
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		r.Files[name] = text
		objs, err := decodeStrict(text)
		if err != nil {
			return rendering{}, fmt.Errorf("decode %s: %w", name, err)
		}
		for _, m := range objs {
			m.Source = name
			r.Manifests = append(r.Manifests, m)
		}
	}
	return r, nil
}

// mustRender renders and fails the test on any error.
func mustRender(t *testing.T, vals map[string]any) rendering {
	t.Helper()
	r, err := renderChart(t, vals, nil)
	require.NoError(t, err)
	return r
}

// decodeStrict splits a rendered template into documents and decodes each into its Kubernetes API type,
// rejecting unknown and duplicate fields, as the API server's strict field validation does.
func decodeStrict(text string) ([]manifest, error) {
	reader := k8syaml.NewYAMLReader(bufio.NewReader(strings.NewReader(text)))
	var out []manifest
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("split documents: %w", err)
		}
		if len(bytes.TrimSpace(doc)) == 0 || isComment(doc) {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			return nil, fmt.Errorf("read kind: %w", err)
		}
		obj, err := newObject(tm)
		if err != nil {
			return nil, err
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			return nil, fmt.Errorf("strict decode %s: %w\n%s", tm.Kind, err, doc)
		}
		meta, ok := obj.(metav1.Object)
		if !ok {
			return nil, fmt.Errorf("%s has no object metadata", tm.Kind)
		}
		if err := validateMeta(tm.Kind, meta); err != nil {
			return nil, err
		}
		out = append(out, manifest{Kind: tm.Kind, Name: meta.GetName(), Object: obj})
	}
}

// validateMeta applies the API server's rules for names and labels, which strict decoding does not check.
func validateMeta(kind string, meta metav1.Object) error {
	if errs := validation.IsDNS1123Subdomain(meta.GetName()); len(errs) > 0 {
		return fmt.Errorf("%s name %q: %s", kind, meta.GetName(), strings.Join(errs, "; "))
	}
	labels := map[string]string{}
	maps.Copy(labels, meta.GetLabels())
	switch o := meta.(type) {
	case *appsv1.Deployment:
		maps.Copy(labels, o.Spec.Template.Labels)
	case *appsv1.StatefulSet:
		maps.Copy(labels, o.Spec.Template.Labels)
	}
	for k, v := range labels {
		if errs := append(validation.IsQualifiedName(k), validation.IsValidLabelValue(v)...); len(errs) > 0 {
			return fmt.Errorf("%s %s label %s=%s: %s", kind, meta.GetName(), k, v, strings.Join(errs, "; "))
		}
	}
	return nil
}

func isComment(doc []byte) bool {
	for line := range strings.SplitSeq(string(doc), "\n") {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
			return false
		}
	}
	return true
}

// newObject returns the typed object for the kinds the chart renders; any other kind is a test failure.
func newObject(tm metav1.TypeMeta) (any, error) {
	switch tm.APIVersion + "/" + tm.Kind {
	case "apps/v1/Deployment":
		return &appsv1.Deployment{}, nil
	case "apps/v1/StatefulSet":
		return &appsv1.StatefulSet{}, nil
	case "v1/Service":
		return &corev1.Service{}, nil
	case "v1/ServiceAccount":
		return &corev1.ServiceAccount{}, nil
	case "v1/ConfigMap":
		return &corev1.ConfigMap{}, nil
	case "v1/Secret":
		return &corev1.Secret{}, nil
	case "v1/PersistentVolumeClaim":
		return &corev1.PersistentVolumeClaim{}, nil
	case "networking.k8s.io/v1/Ingress":
		return &networkingv1.Ingress{}, nil
	case "networking.k8s.io/v1/NetworkPolicy":
		return &networkingv1.NetworkPolicy{}, nil
	case "autoscaling/v2/HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}, nil
	case "policy/v1/PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, nil
	default:
		return nil, fmt.Errorf("unexpected object %s %s", tm.APIVersion, tm.Kind)
	}
}

// ofKind returns the rendered objects of one Go type.
func ofKind[T any](r rendering) []T {
	var out []T
	for _, m := range r.Manifests {
		if o, ok := m.Object.(T); ok {
			out = append(out, o)
		}
	}
	return out
}

// podTemplate is one Osprey workload's pod template, whatever its kind.
type podTemplate struct {
	Workload string
	Labels   map[string]string
	Spec     corev1.PodSpec
}

func podTemplates(r rendering) []podTemplate {
	var out []podTemplate
	for _, d := range ofKind[*appsv1.Deployment](r) {
		out = append(out, podTemplate{d.Name, d.Spec.Template.Labels, d.Spec.Template.Spec})
	}
	for _, s := range ofKind[*appsv1.StatefulSet](r) {
		out = append(out, podTemplate{s.Name, s.Spec.Template.Labels, s.Spec.Template.Spec})
	}
	return out
}

func deployment(t *testing.T, r rendering, component string) *appsv1.Deployment {
	t.Helper()
	name := release + "-" + component
	for _, d := range ofKind[*appsv1.Deployment](r) {
		if d.Name == name {
			return d
		}
	}
	require.Failf(t, "deployment not rendered", "%s", name)
	return nil
}

func configMap(t *testing.T, r rendering, name string) *corev1.ConfigMap {
	t.Helper()
	for _, c := range ofKind[*corev1.ConfigMap](r) {
		if c.Name == name {
			return c
		}
	}
	require.Failf(t, "config map not rendered", "%s", name)
	return nil
}

func osprey(t *testing.T, spec corev1.PodSpec) corev1.Container {
	t.Helper()
	i := slices.IndexFunc(spec.Containers, func(c corev1.Container) bool { return c.Name == "osprey" })
	require.GreaterOrEqual(t, i, 0, "no osprey container")
	return spec.Containers[i]
}

func env(c corev1.Container, name string) (corev1.EnvVar, bool) {
	i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == name })
	if i < 0 {
		return corev1.EnvVar{}, false
	}
	return c.Env[i], true
}

func mountPath(c corev1.Container, volume string) string {
	for _, m := range c.VolumeMounts {
		if m.Name == volume {
			return m.MountPath
		}
	}
	return ""
}

func volume(spec corev1.PodSpec, name string) (corev1.Volume, bool) {
	i := slices.IndexFunc(spec.Volumes, func(v corev1.Volume) bool { return v.Name == name })
	if i < 0 {
		return corev1.Volume{}, false
	}
	return spec.Volumes[i], true
}

func goldenPath(name string) string { return filepath.Join("testdata", "golden", name+".yaml") }
