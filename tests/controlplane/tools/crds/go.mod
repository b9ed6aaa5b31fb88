// The CustomResourceDefinitions of other projects that YokeFlow's chart makes objects of
// (Prometheus Operator's ServiceMonitor and PrometheusRule, Kueue's LocalQueue), taken from
// their Go modules so the test API server validates the chart's objects against the real
// schemas. build.sh copies them into the binary directory's crds/.
module yokeflow.local/testtools/crds

go 1.26.8

require (
	github.com/prometheus-operator/prometheus-operator v0.85.0
	sigs.k8s.io/kueue v0.17.0
)
