// Package helm holds the tests of the Osprey Helm chart in ./osprey. They render the chart with Helm's own Go
// packages for the value sets users deploy (Kestra's Azure guide, defaults, split components), decode every
// manifest strictly into the Kubernetes API types, lint it, and keep golden renderings in testdata/golden.
//
// Regenerate the golden files after a deliberate change with:
//
//	go test ./deploy/helm -update
package helm
