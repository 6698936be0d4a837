// Package taskidentity serves script tasks an Azure managed-identity
// endpoint of their own, so that `az login --identity`, MSAL and the Azure
// SDKs inside a task reach Azure without the pod's federated token.
//
// The worker runs one loopback listener (127.0.0.1, an ephemeral port) and
// gives each task run the App Service variables IDENTITY_ENDPOINT and
// IDENTITY_HEADER. The header is a random secret of that task run: it is
// accepted only while the task run runs and is masked in its logs and
// outputs. A request names an audience (resource=); the server answers
// with a token it gets through the worker's own credential, but only for
// the audiences the task's namespace (or a parent namespace) is allowed in
// osprey.task-identity.audiences. Nothing is allowed by default. Every
// token is taught to the task run's masker, and every issuance and refusal
// is logged with the namespace, flow, execution, task run and audience,
// never the token.
//
// docs/task-identity.md has the configuration and the threat model.
package taskidentity
