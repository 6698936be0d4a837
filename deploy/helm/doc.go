// Package helm holds the tests of the Osprey Helm chart in ./osprey. They render the chart with Helm's own Go
// packages for the value sets users deploy — Kestra's chart 1.x default values file (read from ../shared, never
// copied), the realistic users' files in testdata/values, Kestra's Azure guide, defaults, split components —,
// decode every manifest strictly into the Kubernetes API types, apply the API server's other rules, lint it,
// check that a rendering is byte-identical the second time, and keep golden renderings in testdata/golden.
//
// They live in the main module on purpose: `go test ./...`, the README's one command, does not descend into
// nested modules. Helm and the Kubernetes API types are imported by these tests only, so the osprey binary does
// not link them.
//
// Regenerate the golden files after a deliberate change with:
//
//	go test ./deploy/helm -update
package helm
