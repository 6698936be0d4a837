package cli

import (
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/ospreyhq/osprey/secrets/azurekv"
	"github.com/ospreyhq/osprey/taskidentity"
)

// newTaskIdentity builds the worker's managed-identity endpoint for script
// tasks, or nil when osprey.task-identity.audiences allows no namespace
// anything (then tasks get no IDENTITY_ENDPOINT at all). Tokens come
// through the worker's own Azure identity, planned as the Key Vault
// backend plans it: kestra.secret.azure-key-vault's credential keys when
// set, else the pod's workload identity from the webhook's variables.
func (a *app) newTaskIdentity() (*taskidentity.Server, error) {
	pol, err := taskidentity.ParsePolicy(a.cfg.Osprey.TaskIdentityAudiences)
	if err != nil {
		return nil, err
	}
	if pol.Empty() {
		return nil, nil
	}
	kv := a.cfg.Secret.Azure
	plan, err := azurekv.Plan(kv, azurekv.ParseEnviron(a.env.Environ))
	if err != nil {
		return nil, fmt.Errorf("%s is set, so the worker needs an Azure identity of its own: %w", taskidentity.ConfigKey, err)
	}
	for _, w := range plan.Warnings {
		a.log.Warn("task identity credential", "warning", w)
	}
	a.log.Info("task identity: tasks get Azure tokens through the worker's identity", "credential", plan.Kind, "namespaces", len(pol))
	return taskidentity.New(taskidentity.Options{
		Policy: pol, Logger: a.log,
		Credential: func() (taskidentity.Credential, error) {
			return azurekv.NewCredential(plan, kv, azcore.ClientOptions{Transport: a.env.AzureTransport})
		},
	}), nil
}
