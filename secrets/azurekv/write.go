package azurekv

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/ospreyhq/osprey/secrets"
)

// maxTags is Key Vault's limit of tags per secret.
const maxTags = 15

func (b *Backend) tags(namespace, key, description string, user map[string]string) (map[string]*string, error) {
	all := map[string]string{}
	maps.Copy(all, b.cfg.Tags)
	for k, v := range user {
		if reserved[k] {
			return nil, fmt.Errorf("%w: tag %q is reserved for Osprey's bookkeeping; pick another name", secrets.ErrInvalid, k)
		}
		all[k] = v
	}
	all[TagNamespace] = namespace
	all[TagKey] = key
	all[TagTenant] = tenant
	all[TagPrefix] = b.cfg.Prefix
	all[ManagedByTag] = ManagedByValue
	if description != "" {
		all[TagDescription] = description
	}
	if len(all) > maxTags {
		return nil, fmt.Errorf("%w: a vault secret holds at most %d tags; Osprey uses 5 or 6 and kestra.secret.azure-key-vault.tags %d, leaving room for %d of yours", secrets.ErrInvalid, maxTags, len(b.cfg.Tags), maxTags-6-len(b.cfg.Tags))
	}
	for k, v := range all {
		if len(k) > 512 || len(v) > 256 {
			return nil, fmt.Errorf("%w: tag %q: Key Vault allows names up to 512 and values up to 256 characters", secrets.ErrInvalid, k)
		}
	}
	out := make(map[string]*string, len(all))
	for k, v := range all {
		out[k] = to.Ptr(v)
	}
	return out, nil
}

// ownedOrAbsent checks that name is missing or carries Osprey's marker.
func (b *Backend) ownedOrAbsent(ctx context.Context, name string) (exists bool, err error) {
	resp, err := b.client.GetSecret(ctx, name, "", nil)
	if err != nil {
		err = b.explain(err, opWrite, name)
		if errors.Is(err, secrets.ErrNotFound) {
			return false, nil
		}
		return false, err
	}
	if !managed(tagMap(resp.Tags)) {
		return true, fmt.Errorf("%w: vault secret %s exists and was not created by Osprey (no tag managed-by=osprey); Osprey never modifies it — remove it or tag it in Azure if Osprey should own it", secrets.ErrConflict, name)
	}
	return true, nil
}

// Put implements secrets.Writer: a new version of the vault secret. A name
// that is soft-deleted is recovered first when it was Osprey's and the role
// allows it.
func (b *Backend) Put(ctx context.Context, p secrets.PutParams) error {
	if b.readOnly {
		return secrets.ErrReadOnly
	}
	name := Name(b.cfg.Prefix, p.Namespace, p.Key)
	tags, err := b.tags(p.Namespace, p.Key, p.Description, p.Tags)
	if err != nil {
		return err
	}
	if _, err := b.ownedOrAbsent(ctx, name); err != nil {
		return err
	}
	params := azsecrets.SetSecretParameters{Value: to.Ptr(p.Value), ContentType: to.Ptr("text/plain"), Tags: tags}
	_, err = b.client.SetSecret(ctx, name, params, nil)
	if err != nil && isDeletedButRecoverable(err) {
		if err := b.recover(ctx, name); err != nil {
			return err
		}
		_, err = b.client.SetSecret(ctx, name, params, nil)
	}
	if err != nil {
		return fmt.Errorf("put secret %q in %s: %w", p.Key, displayNS(p.Namespace), b.explain(err, opWrite, name))
	}
	return nil
}

func isDeletedButRecoverable(err error) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == 409 && strings.Contains(err.Error(), "ObjectIsDeletedButRecoverable")
}

// recover brings back a soft-deleted name Osprey created, and waits until
// it can be written.
func (b *Backend) recover(ctx context.Context, name string) error {
	del, err := b.client.GetDeletedSecret(ctx, name, nil)
	if err != nil {
		return fmt.Errorf("secret name %s is soft-deleted: %w", name, b.explain(err, opWrite, name))
	}
	if !managed(tagMap(del.Tags)) {
		return fmt.Errorf("%w: vault secret %s is soft-deleted and was not created by Osprey; recover or purge it in Azure (az keyvault secret recover|purge --vault-name %s --name %s)", secrets.ErrConflict, name, b.vault, name)
	}
	if _, err := b.client.RecoverDeletedSecret(ctx, name, nil); err != nil {
		err = b.explain(err, opWrite, name)
		return fmt.Errorf("secret name %s is soft-deleted and could not be recovered to write it: %w; or purge it: az keyvault secret purge --vault-name %s --name %s", name, err, b.vault, name)
	}
	delay := 200 * time.Millisecond
	for i := 0; i < 20; i++ {
		_, err := b.client.GetSecret(ctx, name, "", nil)
		if err == nil {
			return nil
		}
		if !errors.Is(b.explain(err, opWrite, name), secrets.ErrNotFound) && !isConflict(err) {
			return b.explain(err, opWrite, name)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 2*time.Second)
	}
	return fmt.Errorf("%w: vault secret %s is still being recovered; try again in a minute", secrets.ErrUnavailable, name)
}

func isConflict(err error) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == 409
}

// Patch implements secrets.Writer: description and tags only.
func (b *Backend) Patch(ctx context.Context, p secrets.PatchParams) error {
	if b.readOnly {
		return secrets.ErrReadOnly
	}
	name := Name(b.cfg.Prefix, p.Namespace, p.Key)
	resp, err := b.client.GetSecret(ctx, name, "", nil)
	if err != nil {
		return fmt.Errorf("patch secret %q in %s: %w", p.Key, displayNS(p.Namespace), b.explain(err, opWrite, name))
	}
	cur := tagMap(resp.Tags)
	if !managed(cur) {
		return fmt.Errorf("%w: vault secret %s was not created by Osprey", secrets.ErrConflict, name)
	}
	desc := cur[TagDescription]
	if p.Description != nil {
		desc = *p.Description
	}
	user := userTags(cur, b.cfg.Tags)
	if p.Tags != nil {
		user = p.Tags
	}
	tags, err := b.tags(p.Namespace, p.Key, desc, user)
	if err != nil {
		return err
	}
	if _, err := b.client.UpdateSecretProperties(ctx, name, "", azsecrets.UpdateSecretPropertiesParameters{Tags: tags}, nil); err != nil {
		return fmt.Errorf("patch secret %q in %s: %w", p.Key, displayNS(p.Namespace), b.explain(err, opWrite, name))
	}
	return nil
}

// Delete implements secrets.Writer: a soft delete, purged when configured.
func (b *Backend) Delete(ctx context.Context, namespace, key string) error {
	if b.readOnly {
		return secrets.ErrReadOnly
	}
	name := Name(b.cfg.Prefix, namespace, key)
	exists, err := b.ownedOrAbsent(ctx, name)
	if err != nil {
		return fmt.Errorf("delete secret %q in %s: %w", key, displayNS(namespace), err)
	}
	if !exists {
		return fmt.Errorf("delete secret %q in %s: %w", key, displayNS(namespace), secrets.ErrNotFound)
	}
	if _, err := b.client.DeleteSecret(ctx, name, nil); err != nil {
		return fmt.Errorf("delete secret %q in %s: %w", key, displayNS(namespace), b.explain(err, opWrite, name))
	}
	if b.purge {
		err := b.purgeDeleted(ctx, name)
		if err != nil && strings.Contains(err.Error(), "purge protection") {
			// The delete happened; only the purge is refused, and will be
			// until the vault's retention period ends.
			b.log.WarnContext(ctx, "key vault purge refused: the vault has purge protection, so deleted secrets stay soft-deleted until its retention period ends; set kestra.secret.azure-key-vault.purge-on-delete: false to stop purging",
				"vault", b.vault, "secret_name", name)
			return nil
		}
		if err != nil {
			return fmt.Errorf("secret %q in %s was deleted but not purged: %w", key, displayNS(namespace), b.explain(err, opWrite, name))
		}
	}
	return nil
}

// purgeWait bounds how long a purge waits for Key Vault to finish the
// delete it follows; Azure documents deletes as taking seconds.
const purgeWait = 30 * time.Second

// purgeDeleted purges a secret just deleted. Key Vault deletes
// asynchronously and answers 409 ObjectIsBeingDeleted (or 404, the deleted
// secret not listed yet) until it is done, so the purge is retried with a
// growing pause, for purgeWait at most.
func (b *Backend) purgeDeleted(ctx context.Context, name string) error {
	ctx, cancel := context.WithTimeout(ctx, purgeWait)
	defer cancel()
	pause := 100 * time.Millisecond
	for {
		_, err := b.client.PurgeDeletedSecret(ctx, name, nil)
		var re *azcore.ResponseError
		if err == nil || !errors.As(err, &re) || (re.StatusCode != http.StatusConflict && re.StatusCode != http.StatusNotFound) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the delete did not finish within %s: %w", purgeWait, err)
		case <-time.After(pause):
		}
		pause = min(2*pause, 2*time.Second)
	}
}
