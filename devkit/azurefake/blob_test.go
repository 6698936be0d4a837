package azurefake_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/devkit/azurefake"
)

// blobFixture is one storage account with a container, and a way to get
// clients acting as identities holding a given role.
type blobFixture struct {
	emu  *azurefake.Emulator
	acct *azurefake.StorageAccount
}

func newBlobFixture(t *testing.T) *blobFixture {
	t.Helper()
	emu := azurefake.Start(t)
	acct, err := emu.AddStorageAccount(azurefake.StorageAccountOptions{Name: "ospreydata"})
	require.NoError(t, err)
	f := &blobFixture{emu: emu, acct: acct}
	_, err = f.sharedKeyClient(t).CreateContainer(t.Context(), "files", nil)
	require.NoError(t, err)
	return f
}

func (f *blobFixture) opts() *azblob.ClientOptions {
	return &azblob.ClientOptions{ClientOptions: noRetry(f.emu.ClientOptions())}
}

// clientAs returns a client authenticating with Entra as a new identity
// holding role on the account ("" for none).
func (f *blobFixture) clientAs(t *testing.T, role azurefake.StorageRole) (*azblob.Client, *azurefake.Identity) {
	t.Helper()
	id := f.emu.AddIdentity(azurefake.Identity{Name: string(role)})
	id.AddClientSecret("pw-" + id.ClientID)
	if role != "" {
		f.acct.Assign(role, id.ObjectID)
	}
	cred, err := azidentity.NewClientSecretCredential(id.TenantID, id.ClientID, "pw-"+id.ClientID,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: noRetry(f.emu.ClientOptions()), DisableInstanceDiscovery: true})
	require.NoError(t, err)
	c, err := azblob.NewClient(f.acct.URL(), cred, f.opts())
	require.NoError(t, err)
	return c, id
}

func (f *blobFixture) sharedKeyClient(t *testing.T) *azblob.Client {
	t.Helper()
	cred, err := azblob.NewSharedKeyCredential(f.acct.Name(), f.acct.Key())
	require.NoError(t, err)
	c, err := azblob.NewClientWithSharedKeyCredential(f.acct.URL(), cred, f.opts())
	require.NoError(t, err)
	return c
}

func requireBlobCode(t *testing.T, err error, code bloberror.Code) {
	t.Helper()
	require.Error(t, err)
	require.True(t, bloberror.HasCode(err, code), "want %s, got %v", code, err)
}

func download(t *testing.T, c *azblob.Client, name string, o *azblob.DownloadStreamOptions) string {
	t.Helper()
	resp, err := c.DownloadStream(t.Context(), "files", name, o)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func TestBlobUploadInBlocksAndDownloadRanges(t *testing.T) {
	t.Parallel()
	f := newBlobFixture(t)
	c, _ := f.clientAs(t, azurefake.RoleBlobDataContributor)
	data := make([]byte, 9<<20+123)
	_, _ = rand.Read(data)
	_, err := c.UploadStream(t.Context(), "files", "dir/big.bin", bytes.NewReader(data),
		&azblob.UploadStreamOptions{BlockSize: 4 << 20, Concurrency: 2})
	require.NoError(t, err)
	require.Equal(t, 3, f.acct.Count("PutBlock"), "9 MiB in 4 MiB blocks")
	require.Equal(t, 1, f.acct.Count("PutBlockList"))

	require.Equal(t, string(data), download(t, c, "dir/big.bin", nil))
	got := download(t, c, "dir/big.bin", &azblob.DownloadStreamOptions{Range: azblob.HTTPRange{Offset: 4<<20 - 10, Count: 20}})
	require.Equal(t, string(data[4<<20-10:4<<20+10]), got, "a range across two blocks")

	props, err := c.ServiceClient().NewContainerClient("files").NewBlobClient("dir/big.bin").GetProperties(t.Context(), nil)
	require.NoError(t, err)
	require.EqualValues(t, len(data), *props.ContentLength)
	require.NotEmpty(t, *props.ETag)
	require.Equal(t, "BlockBlob", string(*props.BlobType))

	small := []byte("hello")
	_, err = c.UploadBuffer(t.Context(), "files", "small.txt", small, &azblob.UploadBufferOptions{
		HTTPHeaders: &blob.HTTPHeaders{BlobContentType: to.Ptr("text/plain")}, Metadata: map[string]*string{"origin": to.Ptr("test")}})
	require.NoError(t, err)
	require.Equal(t, 1, f.acct.Count("PutBlob"), "a small upload is one Put Blob")
	props, err = c.ServiceClient().NewContainerClient("files").NewBlobClient("small.txt").GetProperties(t.Context(), nil)
	require.NoError(t, err)
	require.Equal(t, "text/plain", *props.ContentType)
	require.Equal(t, "test", *props.Metadata["Origin"])
	require.NotEmpty(t, props.ContentMD5)

	_, err = c.DownloadStream(t.Context(), "files", "small.txt", &azblob.DownloadStreamOptions{Range: azblob.HTTPRange{Offset: 100}})
	requireBlobCode(t, err, bloberror.InvalidRange)
}

func TestBlobListPrefixDelimiterPaging(t *testing.T) {
	t.Parallel()
	f := newBlobFixture(t)
	c := f.sharedKeyClient(t)
	for _, n := range []string{"a/1", "a/2", "a/sub/3", "b/4", "a-sibling"} {
		_, err := c.UploadBuffer(t.Context(), "files", n, []byte(n), nil)
		require.NoError(t, err)
	}
	var names []string
	pages := 0
	pager := c.NewListBlobsFlatPager("files", &azblob.ListBlobsFlatOptions{Prefix: to.Ptr("a/"), MaxResults: to.Ptr(int32(2))})
	for pager.More() {
		page, err := pager.NextPage(t.Context())
		require.NoError(t, err)
		pages++
		for _, b := range page.Segment.BlobItems {
			names = append(names, *b.Name)
			require.EqualValues(t, len(*b.Name), *b.Properties.ContentLength)
		}
	}
	require.Equal(t, []string{"a/1", "a/2", "a/sub/3"}, names)
	require.Equal(t, 2, pages)

	hier := c.ServiceClient().NewContainerClient("files").NewListBlobsHierarchyPager("/", &container.ListBlobsHierarchyOptions{Prefix: to.Ptr("a/")})
	var blobs, prefixes []string
	for hier.More() {
		page, err := hier.NextPage(t.Context())
		require.NoError(t, err)
		for _, b := range page.Segment.BlobItems {
			blobs = append(blobs, *b.Name)
		}
		for _, p := range page.Segment.BlobPrefixes {
			prefixes = append(prefixes, *p.Name)
		}
	}
	require.Equal(t, []string{"a/1", "a/2"}, blobs)
	require.Equal(t, []string{"a/sub/"}, prefixes)
}

func TestBlobConditionsAndDelete(t *testing.T) {
	t.Parallel()
	f := newBlobFixture(t)
	c, _ := f.clientAs(t, azurefake.RoleBlobDataOwner)
	bc := c.ServiceClient().NewContainerClient("files").NewBlockBlobClient("x")
	up, err := bc.Upload(t.Context(), nopCloser("v1"), nil)
	require.NoError(t, err)
	etag := *up.ETag

	_, err = bc.Upload(t.Context(), nopCloser("v2"), &blockblob.UploadOptions{AccessConditions: &blob.AccessConditions{
		ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfNoneMatch: to.Ptr(azcore.ETagAny)}}})
	requireBlobCode(t, err, bloberror.BlobAlreadyExists)
	_, err = bc.Upload(t.Context(), nopCloser("v2"), &blockblob.UploadOptions{AccessConditions: &blob.AccessConditions{
		ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfMatch: to.Ptr(azcore.ETag(`"0x0"`))}}})
	requireBlobCode(t, err, bloberror.ConditionNotMet)
	up2, err := bc.Upload(t.Context(), nopCloser("v2"), &blockblob.UploadOptions{AccessConditions: &blob.AccessConditions{
		ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfMatch: &etag}}})
	require.NoError(t, err)
	require.NotEqual(t, etag, *up2.ETag)

	_, err = bc.Delete(t.Context(), &blob.DeleteOptions{AccessConditions: &blob.AccessConditions{
		ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfMatch: &etag}}})
	requireBlobCode(t, err, bloberror.ConditionNotMet)
	_, err = bc.Delete(t.Context(), nil)
	require.NoError(t, err)
	_, err = bc.GetProperties(t.Context(), nil)
	requireBlobCode(t, err, bloberror.BlobNotFound)
	_, err = c.DownloadStream(t.Context(), "nocontainer", "x", nil)
	requireBlobCode(t, err, bloberror.ContainerNotFound)
	_, err = c.CreateContainer(t.Context(), "files", nil)
	requireBlobCode(t, err, bloberror.ContainerAlreadyExists)
}

func TestBlobRBAC(t *testing.T) {
	t.Parallel()
	f := newBlobFixture(t)
	owner, _ := f.clientAs(t, azurefake.RoleBlobDataOwner)
	_, err := owner.UploadBuffer(t.Context(), "files", "r.txt", []byte("readable"), nil)
	require.NoError(t, err)

	reader, _ := f.clientAs(t, azurefake.RoleBlobDataReader)
	require.Equal(t, "readable", download(t, reader, "r.txt", nil))
	_, err = reader.UploadBuffer(t.Context(), "files", "w.txt", []byte("no"), nil)
	requireBlobCode(t, err, bloberror.AuthorizationPermissionMismatch)
	_, err = reader.DeleteBlob(t.Context(), "files", "r.txt", nil)
	requireBlobCode(t, err, bloberror.AuthorizationPermissionMismatch)

	nobody, nobodyID := f.clientAs(t, "")
	_, err = nobody.DownloadStream(t.Context(), "files", "r.txt", nil)
	requireBlobCode(t, err, bloberror.AuthorizationPermissionMismatch)
	require.Equal(t, 1, f.acct.CountBy("GetBlob", nobodyID.ObjectID), "the refusal is counted against the caller")

	f.acct.AssignOnContainer(azurefake.RoleBlobDataContributor, nobodyID.ObjectID, "other")
	_, err = nobody.DownloadStream(t.Context(), "files", "r.txt", nil)
	requireBlobCode(t, err, bloberror.AuthorizationPermissionMismatch)
	f.acct.AssignOnContainer(azurefake.RoleBlobDataReader, nobodyID.ObjectID, "files")
	require.Equal(t, "readable", download(t, nobody, "r.txt", nil))
}

func TestBlobCopy(t *testing.T) {
	t.Parallel()
	f := newBlobFixture(t)
	c, _ := f.clientAs(t, azurefake.RoleBlobDataContributor)
	_, err := c.UploadBuffer(t.Context(), "files", "src", []byte("copy me"), &azblob.UploadBufferOptions{Metadata: map[string]*string{"k": to.Ptr("v")}})
	require.NoError(t, err)
	cc := c.ServiceClient().NewContainerClient("files")
	resp, err := cc.NewBlobClient("dst").StartCopyFromURL(t.Context(), cc.NewBlobClient("src").URL(), nil)
	require.NoError(t, err)
	require.Equal(t, "success", string(*resp.CopyStatus))
	require.Equal(t, "copy me", download(t, c, "dst", nil))

	_, err = cc.NewBlobClient("dst2").CopyFromURL(t.Context(), cc.NewBlobClient("src").URL(), nil)
	requireBlobCode(t, err, bloberror.CannotVerifyCopySource)

	// Copy Blob From URL with a read SAS on the source.
	sk := f.sharedKeyClient(t).ServiceClient().NewContainerClient("files").NewBlobClient("src")
	srcSAS, err := sk.GetSASURL(sas.BlobPermissions{Read: true}, time.Now().Add(time.Hour), nil)
	require.NoError(t, err)
	_, err = cc.NewBlobClient("dst2").CopyFromURL(t.Context(), srcSAS, nil)
	require.NoError(t, err)
	require.Equal(t, "copy me", download(t, c, "dst2", nil))
	props, err := cc.NewBlobClient("dst2").GetProperties(t.Context(), nil)
	require.NoError(t, err)
	require.Equal(t, "v", *props.Metadata["K"])
}

func TestBlobSharedKeyAndSAS(t *testing.T) {
	t.Parallel()
	f := newBlobFixture(t)
	cs, err := azblob.NewClientFromConnectionString(f.acct.ConnectionString(), f.opts())
	require.NoError(t, err)
	_, err = cs.UploadBuffer(t.Context(), "files", "k/a b+c.txt", []byte("by key"), nil)
	require.NoError(t, err)
	require.Equal(t, "by key", download(t, cs, "k/a b+c.txt", nil))

	badCred, err := azblob.NewSharedKeyCredential(f.acct.Name(), "d3Jvbmcga2V5")
	require.NoError(t, err)
	bad, err := azblob.NewClientWithSharedKeyCredential(f.acct.URL(), badCred, f.opts())
	require.NoError(t, err)
	_, err = bad.DownloadStream(t.Context(), "files", "k/a b+c.txt", nil)
	requireBlobCode(t, err, bloberror.AuthenticationFailed)

	// An account SAS allowing read and list only.
	cred, err := azblob.NewSharedKeyCredential(f.acct.Name(), f.acct.Key())
	require.NoError(t, err)
	qp, err := sas.AccountSignatureValues{
		Protocol: sas.ProtocolHTTPS, ExpiryTime: time.Now().Add(time.Hour).UTC(),
		Permissions:   to.Ptr(sas.AccountPermissions{Read: true, List: true}).String(),
		ResourceTypes: to.Ptr(sas.AccountResourceTypes{Container: true, Object: true}).String(),
	}.SignWithSharedKey(cred)
	require.NoError(t, err)
	ro, err := azblob.NewClientWithNoCredential(f.acct.URL()+"?"+qp.Encode(), f.opts())
	require.NoError(t, err)
	require.Equal(t, "by key", download(t, ro, "k/a b+c.txt", nil))
	_, err = ro.UploadBuffer(t.Context(), "files", "nope", []byte("x"), nil)
	requireBlobCode(t, err, bloberror.AuthorizationPermissionMismatch)

	expired, err := sas.AccountSignatureValues{
		Protocol: sas.ProtocolHTTPS, ExpiryTime: time.Now().Add(-time.Minute).UTC(),
		Permissions:   to.Ptr(sas.AccountPermissions{Read: true}).String(),
		ResourceTypes: to.Ptr(sas.AccountResourceTypes{Object: true}).String(),
	}.SignWithSharedKey(cred)
	require.NoError(t, err)
	old, err := azblob.NewClientWithNoCredential(f.acct.URL()+"?"+expired.Encode(), f.opts())
	require.NoError(t, err)
	_, err = old.DownloadStream(t.Context(), "files", "k/a b+c.txt", nil)
	requireBlobCode(t, err, bloberror.AuthenticationFailed)

	// A forged signature is refused.
	forged := strings.Replace(qp.Encode(), "sig=", "sig=AAAA", 1)
	fc, err := azblob.NewClientWithNoCredential(f.acct.URL()+"?"+forged, f.opts())
	require.NoError(t, err)
	_, err = fc.DownloadStream(t.Context(), "files", "k/a b+c.txt", nil)
	requireBlobCode(t, err, bloberror.AuthenticationFailed)
}

func TestBlobTokenAudienceAndErrorShape(t *testing.T) {
	t.Parallel()
	f := newBlobFixture(t)
	id := f.emu.AddIdentity(azurefake.Identity{Name: "kv-only"})
	id.AddClientSecret("pw")
	f.acct.Assign(azurefake.RoleBlobDataOwner, id.ObjectID)
	cred, err := azidentity.NewClientSecretCredential(id.TenantID, id.ClientID, "pw",
		&azidentity.ClientSecretCredentialOptions{ClientOptions: f.emu.ClientOptions(), DisableInstanceDiscovery: true})
	require.NoError(t, err)
	vaultTok, err := cred.GetToken(context.Background(), policyScopes(azurefake.VaultResource+"/.default"))
	require.NoError(t, err)

	resp := rawDo(t, f.emu, http.MethodGet, f.acct.URL()+"files/x", vaultTok.Token, "")
	require.Equal(t, http.StatusUnauthorized, resp.status)
	require.Equal(t, "InvalidAuthenticationInfo", resp.header.Get("x-ms-error-code"))
	require.Contains(t, resp.header.Get("WWW-Authenticate"), "resource_id=https://storage.azure.com")
	require.Contains(t, resp.body, "<Error><Code>InvalidAuthenticationInfo</Code><Message>")
	require.Contains(t, resp.body, "<AuthenticationErrorDetail>Audience validation failed")
	require.NotEmpty(t, resp.header.Get("x-ms-request-id"))

	anon := rawDo(t, f.emu, http.MethodGet, f.acct.URL()+"files/x", "", "")
	require.Equal(t, http.StatusUnauthorized, anon.status)
	require.Equal(t, "NoAuthenticationInformation", anon.header.Get("x-ms-error-code"))

	storageTok, err := cred.GetToken(context.Background(), policyScopes(azurefake.StorageResource+"/.default"))
	require.NoError(t, err)
	owner, _ := f.clientAs(t, azurefake.RoleBlobDataOwner)
	_, err = owner.UploadBuffer(t.Context(), "files", "listed", []byte("x"), nil)
	require.NoError(t, err)
	// List Blobs as Azure (and Azurite) write it: ETags unquoted in XML,
	// an empty Marker on the first page.
	list := rawDo(t, f.emu, http.MethodGet, f.acct.URL()+"files?restype=container&comp=list", storageTok.Token, "")
	require.Equal(t, http.StatusOK, list.status, list.body)
	require.Contains(t, list.body, `<EnumerationResults ServiceEndpoint="`+f.acct.URL()+`" ContainerName="files">`)
	require.Contains(t, list.body, "<Marker></Marker>")
	require.Regexp(t, `<Etag>0x[0-9A-F]+</Etag>`, list.body)
	missing := rawDo(t, f.emu, http.MethodGet, f.acct.URL()+"files/none", storageTok.Token, "")
	require.Equal(t, http.StatusNotFound, missing.status)
	require.Equal(t, "BlobNotFound", missing.header.Get("x-ms-error-code"))
	require.True(t, strings.HasPrefix(strings.TrimPrefix(missing.body, "\ufeff"), `<?xml version="1.0" encoding="utf-8"?><Error><Code>BlobNotFound</Code><Message>The specified blob does not exist.`+"\nRequestId:"), missing.body)
}

func nopCloser(s string) io.ReadSeekCloser {
	return readSeekNopCloser{strings.NewReader(s)}
}

type readSeekNopCloser struct{ *strings.Reader }

func (readSeekNopCloser) Close() error { return nil }

// TestBlobReadSurvivesOverwrite reads a blob while it is replaced and then
// deleted: the read serves the version it started with, as Azure does.
func TestBlobReadSurvivesOverwrite(t *testing.T) {
	t.Parallel()
	f := newBlobFixture(t)
	c := f.sharedKeyClient(t)
	first := bytes.Repeat([]byte("a"), 3<<20)
	_, err := c.UploadStream(t.Context(), "files", "x", bytes.NewReader(first), &azblob.UploadStreamOptions{BlockSize: 1 << 20})
	require.NoError(t, err)
	resp, err := c.DownloadStream(t.Context(), "files", "x", nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	head := make([]byte, 10)
	_, err = io.ReadFull(resp.Body, head)
	require.NoError(t, err)
	_, err = c.UploadBuffer(t.Context(), "files", "x", []byte("second"), nil)
	require.NoError(t, err)
	_, err = c.DeleteBlob(t.Context(), "files", "x", nil)
	require.NoError(t, err)
	rest, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, first, append(head, rest...))
}
