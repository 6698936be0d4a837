package azurefake

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
)

// StorageResource is the resource (audience) of Azure Storage access tokens.
const StorageResource = "https://storage.azure.com"

// StorageRole is an Azure built-in role for Blob Storage's data plane.
type StorageRole string

// The built-in roles that grant blob data actions.
const (
	RoleBlobDataReader      StorageRole = "Storage Blob Data Reader"
	RoleBlobDataContributor StorageRole = "Storage Blob Data Contributor"
	RoleBlobDataOwner       StorageRole = "Storage Blob Data Owner"
)

// Blob actions checked per operation: container actions and blob data
// actions as Azure's role definitions name them.
const (
	actionContainerRead   = "Microsoft.Storage/storageAccounts/blobServices/containers/read"
	actionContainerWrite  = "Microsoft.Storage/storageAccounts/blobServices/containers/write"
	actionContainerDelete = "Microsoft.Storage/storageAccounts/blobServices/containers/delete"
	actionBlobRead        = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"
	actionBlobWrite       = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write"
	actionBlobAdd         = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action"
	actionBlobDelete      = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete"
)

// storageRoleDefinitions holds each role's id, actions and data actions as
// Azure defines them.
var storageRoleDefinitions = map[StorageRole]struct {
	id      string
	actions []string
}{
	RoleBlobDataReader: {"2a2b9908-6ea1-4ae2-8e65-a410df84e7d1", []string{
		"Microsoft.Storage/storageAccounts/blobServices/containers/read",
		"Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",
		"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
	}},
	RoleBlobDataContributor: {"ba92f5b4-2d11-453d-a403-e96b0029c9fe", []string{
		"Microsoft.Storage/storageAccounts/blobServices/containers/delete",
		"Microsoft.Storage/storageAccounts/blobServices/containers/read",
		"Microsoft.Storage/storageAccounts/blobServices/containers/write",
		"Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",
		"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete",
		"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
		"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write",
		"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action",
		"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action",
	}},
	RoleBlobDataOwner: {"b7e6dc6d-f1e8-4753-8033-0f276bb0955b", []string{
		"Microsoft.Storage/storageAccounts/blobServices/containers/*",
		"Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",
	}},
}

// RoleID returns the built-in role's definition id.
func (r StorageRole) RoleID() string { return storageRoleDefinitions[r].id }

// Allows reports whether the role grants an action or data action.
func (r StorageRole) Allows(action string) bool {
	for _, pattern := range storageRoleDefinitions[r].actions {
		if matchAction(pattern, action) {
			return true
		}
	}
	return false
}

// StorageAccountOptions configures one storage account.
type StorageAccountOptions struct {
	// Name is the account name (3–24 lower-case letters and digits).
	Name string
	// TenantID whose tokens the account accepts; the emulator's default
	// when empty.
	TenantID string
	// Key is the base64 account key for Shared Key and SAS; generated when
	// empty.
	Key string
	// DisableSharedKey refuses Shared Key and SAS requests, as an account
	// with allowSharedKeyAccess=false does.
	DisableSharedKey bool
	// Port of the account's listener on 127.0.0.1; any free port when zero.
	Port int
}

var accountNameRE = regexp.MustCompile(`^[a-z0-9]{3,24}$`)

// StorageAccount is one storage account's Blob service, on its own
// loopback listener and addressed path-style, as Azurite is:
// https://127.0.0.1:PORT/ACCOUNT/CONTAINER/BLOB. Blob content is kept in
// files under the emulator's directory, never whole in memory.
type StorageAccount struct {
	e       *Emulator
	opts    StorageAccountOptions
	key     []byte
	url     string // service URL, with a trailing slash
	srv     *http.Server
	dir     string
	journal *journal
	faults  *Faults

	mu          sync.Mutex
	containers  map[string]*container
	assignments []storageAssignment
	seq         uint64 // ETag and file counter
}

type storageAssignment struct {
	role      StorageRole
	principal string
	container string // "" for the whole account
}

// AddStorageAccount creates a storage account and starts serving its Blob
// endpoint.
func (e *Emulator) AddStorageAccount(o StorageAccountOptions) (*StorageAccount, error) {
	if !accountNameRE.MatchString(o.Name) {
		return nil, fmt.Errorf("add storage account %q: names are 3 to 24 lower-case letters and digits", o.Name)
	}
	if o.TenantID == "" {
		o.TenantID = e.opts.TenantID
	}
	var key []byte
	if o.Key == "" {
		key = make([]byte, 64)
		_, _ = rand.Read(key)
		o.Key = base64.StdEncoding.EncodeToString(key)
	} else {
		var err error
		if key, err = base64.StdEncoding.DecodeString(o.Key); err != nil {
			return nil, fmt.Errorf("add storage account %q: key is not base64: %w", o.Name, err)
		}
	}
	dir := filepath.Join(e.opts.Dir, "blob-"+o.Name)
	if e.opts.Dir == "" {
		dir = filepath.Join(filepath.Dir(e.caFile), "blob-"+o.Name)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("add storage account %q: %w", o.Name, err)
	}
	e.mu.Lock()
	if e.closed || e.accounts[o.Name] != nil {
		e.mu.Unlock()
		return nil, fmt.Errorf("add storage account %q: already exists or emulator closed", o.Name)
	}
	e.mu.Unlock()
	ln, err := listen(context.Background(), o.Port)
	if err != nil {
		return nil, err
	}
	a := &StorageAccount{
		e: e, opts: o, key: key, dir: dir,
		url:        "https://" + ln.Addr().String() + "/" + o.Name + "/",
		journal:    newJournal(),
		faults:     &Faults{},
		containers: map[string]*container{},
	}
	a.srv = newServer(a.handler(), e.auth.serverConfig())
	e.mu.Lock()
	e.accounts[o.Name] = a
	e.tenants[strings.ToLower(o.TenantID)] = true
	e.mu.Unlock()
	go func(ln net.Listener) { _ = a.srv.ServeTLS(ln, "", "") }(ln)
	return a, nil
}

// StorageAccount returns an account by name, or nil.
func (e *Emulator) StorageAccount(name string) *StorageAccount {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.accounts[name]
}

// Name returns the account name.
func (a *StorageAccount) Name() string { return a.opts.Name }

// URL returns the Blob service URL to give azblob.NewClient, with a
// trailing slash (path-style: https://127.0.0.1:PORT/NAME/).
func (a *StorageAccount) URL() string { return a.url }

// Key returns the account key (base64), for Shared Key and SAS.
func (a *StorageAccount) Key() string { return a.opts.Key }

// ConnectionString returns the account's connection string with its key.
func (a *StorageAccount) ConnectionString() string {
	return "DefaultEndpointsProtocol=https;AccountName=" + a.opts.Name + ";AccountKey=" + a.opts.Key + ";BlobEndpoint=" + a.url + ";"
}

// Assign grants a role on the whole account to a principal (an object id).
func (a *StorageAccount) Assign(role StorageRole, principalID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.assignments = append(a.assignments, storageAssignment{role: role, principal: strings.ToLower(principalID)})
}

// AssignOnContainer grants a role on one container only.
func (a *StorageAccount) AssignOnContainer(role StorageRole, principalID, containerName string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.assignments = append(a.assignments, storageAssignment{role: role, principal: strings.ToLower(principalID), container: containerName})
}

// Unassign removes every assignment of role to the principal.
func (a *StorageAccount) Unassign(role StorageRole, principalID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	kept := a.assignments[:0]
	for _, as := range a.assignments {
		if as.role != role || as.principal != strings.ToLower(principalID) {
			kept = append(kept, as)
		}
	}
	a.assignments = kept
}

// Faults returns the account's fault injector.
func (a *StorageAccount) Faults() *Faults { return a.faults }

// Count returns how many requests of an operation (the REST API's names:
// "PutBlob", "PutBlock", "PutBlockList", "GetBlob", "GetBlobProperties",
// "ListBlobs", "DeleteBlob", "CopyBlob", "CopyBlobFromURL",
// "CreateContainer" …) reached the account, refused ones included.
func (a *StorageAccount) Count(op string) int { return a.journal.count(op) }

// CountBy returns how many requests of an operation came from one caller:
// an object id, "sharedkey", "sas", or "" when anonymous.
func (a *StorageAccount) CountBy(op, caller string) int { return a.journal.countBy(op, caller) }

// Requests returns a copy of the account's request log, oldest first.
func (a *StorageAccount) Requests() []Request { return a.journal.requests() }

func (a *StorageAccount) allowed(principal, action, containerName string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, as := range a.assignments {
		if as.principal != strings.ToLower(principal) {
			continue
		}
		if as.container != "" && as.container != containerName {
			continue
		}
		if as.role.Allows(action) {
			return true
		}
	}
	return false
}

// createContainerNow makes a container directly, as if it existed before
// the emulator started.
func (a *StorageAccount) createContainerNow(name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.e.clock.Now()
	if a.containers[name] == nil {
		a.containers[name] = &container{name: name, created: now, modified: now, etag: a.newETag(), metadata: map[string]string{},
			blobs: map[string]*blobEntry{}, pending: map[string]*pendingBlocks{}}
	}
}
