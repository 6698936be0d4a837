package azurefake

import (
	"fmt"
	"strings"
)

// Role is an Azure built-in role for Key Vault's data plane under the Azure
// RBAC permission model.
type Role string

// The built-in roles that grant secret data actions, with the data actions
// Azure's role definitions give them.
const (
	RoleSecretsUser    Role = "Key Vault Secrets User"
	RoleSecretsOfficer Role = "Key Vault Secrets Officer"
	RoleReader         Role = "Key Vault Reader"
	RoleAdministrator  Role = "Key Vault Administrator"
)

// Secret data actions checked per operation.
const (
	actionGetSecret    = "Microsoft.KeyVault/vaults/secrets/getSecret/action"
	actionSetSecret    = "Microsoft.KeyVault/vaults/secrets/setSecret/action"
	actionReadMetadata = "Microsoft.KeyVault/vaults/secrets/readMetadata/action"
	actionUpdate       = "Microsoft.KeyVault/vaults/secrets/update/action"
	actionDelete       = "Microsoft.KeyVault/vaults/secrets/delete"
	actionRecover      = "Microsoft.KeyVault/vaults/secrets/recover/action"
	actionPurge        = "Microsoft.KeyVault/vaults/secrets/purge/action"
	actionBackup       = "Microsoft.KeyVault/vaults/secrets/backup/action"
	actionRestore      = "Microsoft.KeyVault/vaults/secrets/restore/action"
)

// roleDefinitions holds each role's id and data actions as Azure defines them.
var roleDefinitions = map[Role]struct {
	id          string
	dataActions []string
}{
	RoleSecretsUser: {"4633458b-17de-408a-b874-0445c86b69e6", []string{
		"Microsoft.KeyVault/vaults/secrets/getSecret/action",
		"Microsoft.KeyVault/vaults/secrets/readMetadata/action",
	}},
	RoleSecretsOfficer: {"b86a8fe4-44ce-4948-aee5-eccb2c155cd7", []string{
		"Microsoft.KeyVault/vaults/secrets/*",
	}},
	RoleReader: {"21090545-7ca7-4776-b22c-e363652d74d2", []string{
		"Microsoft.KeyVault/vaults/*/read",
		"Microsoft.KeyVault/vaults/secrets/readMetadata/action",
	}},
	RoleAdministrator: {"00482a5a-887f-4fb3-b363-3b7fe8e74483", []string{
		"Microsoft.KeyVault/vaults/*",
	}},
}

// RoleID returns the built-in role's definition id.
func (r Role) RoleID() string { return roleDefinitions[r].id }

// Allows reports whether the role grants a data action.
func (r Role) Allows(action string) bool {
	for _, pattern := range roleDefinitions[r].dataActions {
		if matchAction(pattern, action) {
			return true
		}
	}
	return false
}

// matchAction matches an action against a pattern in which "*" stands for
// any run of characters, case-insensitively, as Azure RBAC does.
func matchAction(pattern, action string) bool {
	pattern, action = strings.ToLower(pattern), strings.ToLower(action)
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == action
	}
	if !strings.HasPrefix(action, parts[0]) {
		return false
	}
	rest := action[len(parts[0]):]
	for i, p := range parts[1:] {
		last := i == len(parts)-2
		if last {
			return strings.HasSuffix(rest, p)
		}
		idx := strings.Index(rest, p)
		if idx < 0 {
			return false
		}
		rest = rest[idx+len(p):]
	}
	return true
}

// assignment grants a role to a principal on a vault, or on one secret of it.
type assignment struct {
	role      Role
	principal string // object id
	secret    string // lower-case secret name; "" for the whole vault
}

// forbiddenMessage is Key Vault's text for a ForbiddenByRbac answer.
func forbiddenMessage(c *caller, action, resource, vault string) string {
	return fmt.Sprintf("Caller is not authorized to perform action on resource.\r\n"+
		"If role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\n"+
		"Caller: appid=%s;oid=%s;iss=%s\r\n"+
		"Action: '%s'\r\n"+
		"Resource: '%s'\r\n"+
		"Assignment: (not found)\r\n"+
		"DenyAssignmentId: null\r\n"+
		"DecisionReason: 'DeniedWithNoValidRBAC' \r\n"+
		"Vault: %s;location=local\r\n", c.appID, c.objectID, c.issuer, action, strings.ToLower(resource), vault)
}
