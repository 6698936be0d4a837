package tasks

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/ospreyhq/osprey/config"
	"github.com/ospreyhq/osprey/flow"
	"github.com/ospreyhq/osprey/storage"
	"github.com/ospreyhq/osprey/storage/azureblob"
	"github.com/ospreyhq/osprey/worker"
)

// AzureHost is how the Azure tasks reach Azure when a flow names no
// credential: the worker's own environment (the variables the Workload
// Identity webhook injects, so the pod's identity is used with no secret
// at all) and the HTTP transport.
type AzureHost struct {
	Environ   map[string]string
	Transport policy.Transporter
	// clients keeps the Blob clients the tasks built, so a token is
	// exchanged once, not once per task run.
	clients *clientCache
}

// clientCache keeps a worker's Blob clients: one per endpoint for flows
// that name no credential (the pod's identity), and one per set of
// explicit credentials (a client secret's token is then exchanged once
// per worker, not once per task run). A client holds its credentials, so
// one unused for clientIdle is dropped, and clients are found by an HMAC
// of their connection under a key of this process, never by the
// credentials themselves.
type clientCache struct {
	seal []byte
	now  func() time.Time

	mu sync.Mutex
	m  map[string]*cachedClient
}

type cachedClient struct {
	c    *azureblob.Client
	used time.Time
}

const (
	// clientIdle is how long an unused client is kept.
	clientIdle = 10 * time.Minute
	// maxClients bounds the clients kept; the least recently used goes.
	maxClients = 64
)

func newClientCache() *clientCache {
	seal := make([]byte, 32)
	_, _ = rand.Read(seal) // crypto/rand.Read never fails
	return &clientCache{seal: seal, now: time.Now, m: map[string]*cachedClient{}}
}

// key names o's connection: its endpoint and credentials, through an HMAC.
func (c *clientCache) key(o azureblob.Options) string {
	mac := hmac.New(sha256.New, c.seal)
	parts := []string{o.Config.Endpoint, o.Config.ConnectionString.Reveal(), o.Config.SharedKeyAccountName,
		o.Config.SharedKeyAccountAccessKey.Reveal(), o.Config.SasToken.Reveal()}
	if cs := o.ClientSecret; cs != nil {
		parts = append(parts, "client secret", cs.TenantID, cs.ClientID, cs.Secret)
	}
	for _, p := range parts {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		mac.Write(n[:])
		mac.Write([]byte(p))
	}
	return string(mac.Sum(nil))
}

// client returns the kept client of o's connection, or builds and keeps
// one.
func (c *clientCache) client(o azureblob.Options) (*azureblob.Client, error) {
	k := c.key(o)
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	var lru string
	var lruAt time.Time
	for key, e := range c.m {
		if now.Sub(e.used) >= clientIdle {
			delete(c.m, key)
			continue
		}
		if lruAt.IsZero() || e.used.Before(lruAt) {
			lru, lruAt = key, e.used
		}
	}
	if e := c.m[k]; e != nil {
		e.used = now
		return e.c, nil
	}
	cl, err := azureblob.NewClient(o)
	if err != nil {
		return nil, err
	}
	if len(c.m) >= maxClients {
		delete(c.m, lru)
	}
	c.m[k] = &cachedClient{c: cl, used: now}
	return cl, nil
}

// Kestra's io.kestra.plugin.azure.storage.blob tasks.
const pAzureBlob = "io.kestra.plugin.azure.storage.blob."

var azureConnProps = []string{"endpoint", "connectionString", "sharedKeyAccountName", "sharedKeyAccountAccessKey", "sasToken",
	"tenantId", "clientId", "clientSecret", "pemCertificate"}

func azureSpecs(host *AzureHost) []*Spec {
	props := func(p ...string) []string { return append(append([]string{}, azureConnProps...), p...) }
	check := func(t *flow.Task, c *azureConn) []*flow.Error {
		errs := required(t, "endpoint", c.Endpoint != "" || c.ConnectionString != "")
		if c.PemCertificate != "" {
			errs = append(errs, taskErr(t, "pemCertificate", "pemCertificate is not supported: use clientSecret, a SAS token, or leave the credentials out to use the pod's workload identity"))
		}
		return errs
	}
	specs := []*Spec{
		runnable[BlobUpload](pAzureBlob+"Upload", props("container", "from", "name", "metadata", "tags", "accessTier", "legalHold", "immutabilityPolicy"), func(t *flow.Task, x *BlobUpload) []*flow.Error {
			return append(check(t, &x.azureConn), append(required(t, "container", x.Container != ""), append(required(t, "from", x.From != ""), required(t, "name", x.Name != "")...)...)...)
		}),
		runnable[BlobDownload](pAzureBlob+"Download", props("container", "name"), func(t *flow.Task, x *BlobDownload) []*flow.Error {
			return append(check(t, &x.azureConn), append(required(t, "container", x.Container != ""), required(t, "name", x.Name != "")...)...)
		}),
		runnable[BlobList](pAzureBlob+"List", props("container", "prefix", "regexp", "delimiter", "filter"), func(t *flow.Task, x *BlobList) []*flow.Error {
			return append(check(t, &x.azureConn), required(t, "container", x.Container != "")...)
		}),
		runnable[BlobDownloads](pAzureBlob+"Downloads", props("container", "prefix", "regexp", "delimiter", "filter", "action", "moveTo"), func(t *flow.Task, x *BlobDownloads) []*flow.Error {
			errs := append(check(t, &x.azureConn), required(t, "container", x.Container != "")...)
			switch strings.ToUpper(x.Action) {
			case "", "NONE", "DELETE":
			case "MOVE":
				errs = append(errs, required(t, "moveTo", x.MoveTo != nil)...)
			default:
				errs = append(errs, taskErr(t, "action", fmt.Sprintf("action %q: use NONE, DELETE or MOVE", x.Action)))
			}
			return errs
		}),
		runnable[BlobDelete](pAzureBlob+"Delete", props("container", "name"), func(t *flow.Task, x *BlobDelete) []*flow.Error {
			return append(check(t, &x.azureConn), append(required(t, "container", x.Container != ""), required(t, "name", x.Name != "")...)...)
		}),
		runnable[BlobDeleteList](pAzureBlob+"DeleteList", props("container", "prefix", "regexp", "delimiter", "filter", "concurrent", "errorOnEmpty"), func(t *flow.Task, x *BlobDeleteList) []*flow.Error {
			return append(check(t, &x.azureConn), required(t, "container", x.Container != "")...)
		}),
		runnable[BlobCopy](pAzureBlob+"Copy", props("from", "to", "delete"), func(t *flow.Task, x *BlobCopy) []*flow.Error {
			return append(check(t, &x.azureConn), append(required(t, "from", x.From.Name != ""), required(t, "to", x.To.Name != "")...)...)
		}),
	}
	for _, s := range specs {
		decode := s.Decode
		s.Decode = func(t *flow.Task) (any, []*flow.Error) {
			x, errs := decode(t)
			if c, ok := x.(interface{ setHost(*AzureHost) }); ok {
				c.setHost(host)
			}
			return x, errs
		}
	}
	return specs
}

// azureConn is the connection every Blob task takes; with no credential
// property set, the worker's workload identity is used.
type azureConn struct {
	Endpoint                  string `json:"endpoint"`
	ConnectionString          string `json:"connectionString"`
	SharedKeyAccountName      string `json:"sharedKeyAccountName"`
	SharedKeyAccountAccessKey string `json:"sharedKeyAccountAccessKey"`
	SasToken                  string `json:"sasToken"`
	TenantID                  string `json:"tenantId"`
	ClientID                  string `json:"clientId"`
	ClientSecret              string `json:"clientSecret"`
	PemCertificate            string `json:"pemCertificate"`
	host                      *AzureHost
}

func (c *azureConn) setHost(h *AzureHost) { c.host = h }

// client renders the connection properties and builds the client.
func (c *azureConn) client(ctx context.Context, rc runEnv) (*azureblob.Client, error) {
	vals := map[string]*string{}
	for name, p := range map[string]*string{"endpoint": &c.Endpoint, "connectionString": &c.ConnectionString,
		"sharedKeyAccountName": &c.SharedKeyAccountName, "sharedKeyAccountAccessKey": &c.SharedKeyAccountAccessKey,
		"sasToken": &c.SasToken, "tenantId": &c.TenantID, "clientId": &c.ClientID, "clientSecret": &c.ClientSecret} {
		v, err := rc.Render(ctx, *p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		vals[name] = &v
	}
	o := azureblob.Options{Config: config.AzureStorage{
		Endpoint:                  *vals["endpoint"],
		ConnectionString:          config.NewSecret(*vals["connectionString"]),
		SharedKeyAccountName:      *vals["sharedKeyAccountName"],
		SharedKeyAccountAccessKey: config.NewSecret(*vals["sharedKeyAccountAccessKey"]),
		SasToken:                  config.NewSecret(*vals["sasToken"]),
	}}
	if *vals["clientSecret"] != "" || *vals["clientId"] != "" {
		o.ClientSecret = &azureblob.ClientSecret{TenantID: *vals["tenantId"], ClientID: *vals["clientId"], Secret: *vals["clientSecret"]}
	}
	var cl *azureblob.Client
	var err error
	if c.host != nil {
		o.Environ, o.Transport = c.host.Environ, c.host.Transport
	}
	if c.host != nil && c.host.clients != nil {
		cl, err = c.host.clients.client(o)
	} else {
		cl, err = azureblob.NewClient(o)
	}
	if err != nil {
		return nil, err
	}
	rc.Log("DEBUG", "Azure Blob credential: "+credentialName(cl))
	return cl, nil
}

func credentialName(c *azureblob.Client) string {
	if c.Kind == azureblob.KindEntra {
		return c.Plan.Kind
	}
	return c.Kind
}

// azureErr turns Azure's refusal into what to change in Azure.
func azureErr(c *azureblob.Client, op, containerName string, err error) error {
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		var ue *url.Error
		if errors.As(err, &ue) {
			// A transport error prints its request's URL, whose query
			// may be a SAS token: name the blob, not the signature.
			return fmt.Errorf("%s: %s %s: %w", op, ue.Op, withoutQuery(ue.URL), ue.Err)
		}
		return fmt.Errorf("%s: %w", op, err)
	}
	switch bloberror.Code(re.ErrorCode) {
	case bloberror.AuthorizationPermissionMismatch, bloberror.AuthorizationFailure:
		who := "the identity"
		if c.Plan.ClientID != "" {
			who = "identity " + c.Plan.ClientID
		}
		return fmt.Errorf("%s: Azure refused (%s): %s needs a role allowing it on container %s — Storage Blob Data Reader to read, Storage Blob Data Contributor to write or delete (az role assignment create --role \"Storage Blob Data Contributor\" --assignee <client id> --scope <storage account id>/blobServices/default/containers/%s)", op, re.ErrorCode, who, containerName, containerName)
	case bloberror.ContainerNotFound:
		return fmt.Errorf("%s: container %q does not exist in the storage account", op, containerName)
	case bloberror.BlobNotFound:
		return fmt.Errorf("%s: no such blob: %w", op, storage.ErrNotFound)
	case bloberror.AuthenticationFailed:
		return fmt.Errorf("%s: Azure refused the %s credential (AuthenticationFailed): the key or SAS token is wrong, expired or revoked", op, c.Kind)
	}
	return fmt.Errorf("%s: %s (HTTP %d)", op, re.ErrorCode, re.StatusCode)
}

// withoutQuery drops a URL's query: with a SAS credential it is the
// signature, which outputs and errors must not carry.
func withoutQuery(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.RawQuery, u.ForceQuery = "", false
	return u.String()
}

// blobOutput is Kestra's Blob output.
func blobOutput(svc *azblob.Client, containerName, name string, size *int64, etag *azcore.ETag, ct *string, modified *time.Time) map[string]any {
	out := map[string]any{"container": containerName, "name": name,
		"uri": withoutQuery(svc.ServiceClient().NewContainerClient(containerName).NewBlobClient(name).URL())}
	if size != nil {
		out["size"] = *size
	}
	if etag != nil {
		out["eTag"] = string(*etag)
	}
	if ct != nil {
		out["contentType"] = *ct
	}
	if modified != nil {
		out["lastModified"] = modified.UTC().Format(time.RFC3339)
	}
	return out
}

// BlobUpload uploads a file of the execution to a blob (blob.Upload).
type BlobUpload struct {
	azureConn
	Container          string            `json:"container"`
	From               string            `json:"from"`
	Name               string            `json:"name"`
	Metadata           map[string]string `json:"metadata"`
	Tags               map[string]string `json:"tags"`
	AccessTier         string            `json:"accessTier"`
	LegalHold          any               `json:"legalHold"`
	ImmutabilityPolicy any               `json:"immutabilityPolicy"`
}

// Run implements worker.Runnable: the file streams from internal storage
// to Azure in blocks.
func (x *BlobUpload) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	c, err := x.client(ctx, rc)
	if err != nil {
		return nil, err
	}
	cont, name, err := renderPair(ctx, rc, x.Container, x.Name)
	if err != nil {
		return nil, err
	}
	f, p, err := renderURI(ctx, rc, "from", x.From)
	if err != nil {
		return nil, err
	}
	src, err := f.st.Get(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	defer src.Close()
	md := map[string]*string{}
	for k, v := range x.Metadata {
		r, err := rc.Render(ctx, v)
		if err != nil {
			return nil, fmt.Errorf("metadata.%s: %w", k, err)
		}
		md[k] = to.Ptr(r)
	}
	opts := &azblob.UploadStreamOptions{BlockSize: 8 << 20, Concurrency: 4, Metadata: md}
	if len(x.Tags) > 0 {
		opts.Tags = x.Tags
	}
	if x.AccessTier != "" {
		opts.AccessTier = to.Ptr(blob.AccessTier(x.AccessTier))
	}
	if x.LegalHold != nil || x.ImmutabilityPolicy != nil {
		rc.Log("WARN", "legalHold and immutabilityPolicy are ignored: set them on the container's policy in Azure")
	}
	resp, err := c.Service.UploadStream(ctx, cont, name, src, opts)
	if err != nil {
		return nil, azureErr(c, "upload "+name, cont, err)
	}
	props, err := c.Service.ServiceClient().NewContainerClient(cont).NewBlobClient(name).GetProperties(ctx, nil)
	if err != nil {
		return nil, azureErr(c, "upload "+name, cont, err)
	}
	rc.Log("INFO", fmt.Sprintf("Uploaded %s to container %s as %s", storage.URI(p), cont, name))
	return map[string]any{"blob": blobOutput(c.Service, cont, name, props.ContentLength, resp.ETag, props.ContentType, resp.LastModified)}, nil
}

func renderPair(ctx context.Context, rc runEnv, containerTmpl, nameTmpl string) (string, string, error) {
	cont, err := rc.Render(ctx, containerTmpl)
	if err != nil {
		return "", "", fmt.Errorf("container: %w", err)
	}
	name, err := rc.Render(ctx, nameTmpl)
	if err != nil {
		return "", "", fmt.Errorf("name: %w", err)
	}
	return cont, strings.TrimPrefix(name, "/"), nil
}

// BlobDownload downloads a blob into the execution's storage
// (blob.Download): outputs.blob.uri is the kestra:/// file.
type BlobDownload struct {
	azureConn
	Container string `json:"container"`
	Name      string `json:"name"`
}

// Run implements worker.Runnable.
func (x *BlobDownload) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	c, err := x.client(ctx, rc)
	if err != nil {
		return nil, err
	}
	cont, name, err := renderPair(ctx, rc, x.Container, x.Name)
	if err != nil {
		return nil, err
	}
	f, err := filesOf(rc)
	if err != nil {
		return nil, err
	}
	out, err := downloadBlob(ctx, c, f, cont, name)
	if err != nil {
		return nil, err
	}
	return map[string]any{"blob": out}, nil
}

func downloadBlob(ctx context.Context, c *azureblob.Client, f *execFiles, cont, name string) (map[string]any, error) {
	resp, err := c.Service.DownloadStream(ctx, cont, name, nil)
	if err != nil {
		return nil, azureErr(c, "download "+name, cont, err)
	}
	body := resp.NewRetryReader(ctx, &azblob.RetryReaderOptions{MaxRetries: 5})
	defer func() { _ = body.Close() }()
	uri, n, err := f.put(ctx, name, body)
	if err != nil {
		return nil, err
	}
	out := blobOutput(c.Service, cont, name, &n, resp.ETag, resp.ContentType, resp.LastModified)
	out["uri"] = uri
	return out, nil
}

// blobSelect is what the listing tasks share.
type blobSelect struct {
	Container string `json:"container"`
	Prefix    string `json:"prefix"`
	Regexp    string `json:"regexp"`
	Delimiter string `json:"delimiter"`
	Filter    string `json:"filter"`
}

// list pages through the container, keeping what prefix, regexp and
// filter (FILES, DIRECTORY, BOTH; FILES by default) select.
func (s *blobSelect) list(ctx context.Context, rc runEnv, c *azureblob.Client) (string, []map[string]any, error) {
	cont, err := rc.Render(ctx, s.Container)
	if err != nil {
		return "", nil, fmt.Errorf("container: %w", err)
	}
	prefix, err := rc.Render(ctx, s.Prefix)
	if err != nil {
		return "", nil, fmt.Errorf("prefix: %w", err)
	}
	var re *regexp.Regexp
	if s.Regexp != "" {
		pat, err := rc.Render(ctx, s.Regexp)
		if err == nil {
			re, err = regexp.Compile("^(?:" + pat + ")$")
		}
		if err != nil {
			return "", nil, fmt.Errorf("regexp: %w", err)
		}
	}
	filter := strings.ToUpper(s.Filter)
	if filter == "" {
		filter = "FILES"
	}
	var out []map[string]any
	pager := c.Service.NewListBlobsFlatPager(cont, &azblob.ListBlobsFlatOptions{Prefix: to.Ptr(prefix)})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return "", nil, azureErr(c, "list "+prefix, cont, err)
		}
		for _, b := range page.Segment.BlobItems {
			name := *b.Name
			dir := strings.HasSuffix(name, "/")
			if (filter == "FILES" && dir) || (filter == "DIRECTORY" && !dir) {
				continue
			}
			if re != nil && !re.MatchString(name) {
				continue
			}
			var p container.BlobProperties
			if b.Properties != nil {
				p = *b.Properties
			}
			out = append(out, blobOutput(c.Service, cont, name, p.ContentLength, p.ETag, p.ContentType, p.LastModified))
		}
	}
	return cont, out, nil
}

// BlobList lists blobs (blob.List): outputs.blobs.
type BlobList struct {
	azureConn
	blobSelect
}

// Run implements worker.Runnable.
func (x *BlobList) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	c, err := x.client(ctx, rc)
	if err != nil {
		return nil, err
	}
	_, blobs, err := x.list(ctx, rc, c)
	if err != nil {
		return nil, err
	}
	return map[string]any{"blobs": anyList(blobs)}, nil
}

func anyList(in []map[string]any) []any {
	out := make([]any, len(in))
	for i, m := range in {
		out[i] = m
	}
	return out
}

// BlobDownloads downloads every selected blob (blob.Downloads), then
// leaves, deletes or moves them: outputs.blobs and outputs.outputFiles.
type BlobDownloads struct {
	azureConn
	blobSelect
	Action string `json:"action"`
	MoveTo *struct {
		Container string `json:"container"`
		Name      string `json:"name"`
	} `json:"moveTo"`
}

// Run implements worker.Runnable.
func (x *BlobDownloads) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	c, err := x.client(ctx, rc)
	if err != nil {
		return nil, err
	}
	f, err := filesOf(rc)
	if err != nil {
		return nil, err
	}
	cont, blobs, err := x.list(ctx, rc, c)
	if err != nil {
		return nil, err
	}
	files := map[string]any{}
	var out []any
	for _, b := range blobs {
		name := b["name"].(string)
		d, err := downloadBlob(ctx, c, f, cont, name)
		if err != nil {
			return nil, err
		}
		files[name] = d["uri"]
		out = append(out, d)
		switch strings.ToUpper(x.Action) {
		case "DELETE":
			if _, err := c.Service.DeleteBlob(ctx, cont, name, nil); err != nil {
				return nil, azureErr(c, "delete "+name, cont, err)
			}
		case "MOVE":
			toCont, prefix, err := renderPair(ctx, rc, x.MoveTo.Container, x.MoveTo.Name)
			if err != nil {
				return nil, fmt.Errorf("moveTo: %w", err)
			}
			if toCont == "" {
				toCont = cont
			}
			if err := copyBlob(ctx, c, cont, name, toCont, strings.TrimSuffix(prefix, "/")+"/"+name, true); err != nil {
				return nil, err
			}
		}
	}
	return map[string]any{"blobs": out, "outputFiles": files}, nil
}

// BlobDelete deletes one blob (blob.Delete): outputs.blob.
type BlobDelete struct {
	azureConn
	Container string `json:"container"`
	Name      string `json:"name"`
}

// Run implements worker.Runnable.
func (x *BlobDelete) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	c, err := x.client(ctx, rc)
	if err != nil {
		return nil, err
	}
	cont, name, err := renderPair(ctx, rc, x.Container, x.Name)
	if err != nil {
		return nil, err
	}
	bc := c.Service.ServiceClient().NewContainerClient(cont).NewBlobClient(name)
	props, err := bc.GetProperties(ctx, nil)
	if err != nil {
		return nil, azureErr(c, "delete "+name, cont, err)
	}
	if _, err := bc.Delete(ctx, nil); err != nil {
		return nil, azureErr(c, "delete "+name, cont, err)
	}
	return map[string]any{"blob": blobOutput(c.Service, cont, name, props.ContentLength, props.ETag, props.ContentType, props.LastModified)}, nil
}

// BlobDeleteList deletes every selected blob (blob.DeleteList):
// outputs.count and outputs.size.
type BlobDeleteList struct {
	azureConn
	blobSelect
	Concurrent   any   `json:"concurrent"`
	ErrorOnEmpty *bool `json:"errorOnEmpty"`
}

// Run implements worker.Runnable.
func (x *BlobDeleteList) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	c, err := x.client(ctx, rc)
	if err != nil {
		return nil, err
	}
	cont, blobs, err := x.list(ctx, rc, c)
	if err != nil {
		return nil, err
	}
	if len(blobs) == 0 && x.ErrorOnEmpty != nil && *x.ErrorOnEmpty {
		return nil, errors.New("no blob matches, and errorOnEmpty is true")
	}
	var size int64
	for _, b := range blobs {
		name := b["name"].(string)
		if _, err := c.Service.DeleteBlob(ctx, cont, name, nil); err != nil && !bloberror.HasCode(err, bloberror.BlobNotFound) {
			return nil, azureErr(c, "delete "+name, cont, err)
		}
		if n, ok := b["size"].(int64); ok {
			size += n
		}
	}
	return map[string]any{"count": len(blobs), "size": size}, nil
}

// BlobCopy copies a blob (blob.Copy), deleting the source when asked:
// outputs.blob.
type BlobCopy struct {
	azureConn
	From struct {
		Container string `json:"container"`
		Name      string `json:"name"`
	} `json:"from"`
	To struct {
		Container string `json:"container"`
		Name      string `json:"name"`
	} `json:"to"`
	Delete bool `json:"delete"`
}

// Run implements worker.Runnable.
func (x *BlobCopy) Run(ctx context.Context, rc *worker.RunContext) (map[string]any, error) {
	c, err := x.client(ctx, rc)
	if err != nil {
		return nil, err
	}
	fc, fn, err := renderPair(ctx, rc, x.From.Container, x.From.Name)
	if err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	tc, tn, err := renderPair(ctx, rc, x.To.Container, x.To.Name)
	if err != nil {
		return nil, fmt.Errorf("to: %w", err)
	}
	if err := copyBlob(ctx, c, fc, fn, tc, tn, x.Delete); err != nil {
		return nil, err
	}
	props, err := c.Service.ServiceClient().NewContainerClient(tc).NewBlobClient(tn).GetProperties(ctx, nil)
	if err != nil {
		return nil, azureErr(c, "copy to "+tn, tc, err)
	}
	return map[string]any{"blob": blobOutput(c.Service, tc, tn, props.ContentLength, props.ETag, props.ContentType, props.LastModified)}, nil
}

// copyBlob copies within the account with Copy Blob (the service copies;
// nothing passes through the worker) and waits for it to complete.
func copyBlob(ctx context.Context, c *azureblob.Client, fc, fn, tc, tn string, del bool) error {
	svc := c.Service.ServiceClient()
	src := svc.NewContainerClient(fc).NewBlobClient(fn)
	dst := svc.NewContainerClient(tc).NewBlobClient(tn)
	resp, err := dst.StartCopyFromURL(ctx, src.URL(), nil)
	if err != nil {
		return azureErr(c, "copy "+fn+" to "+tn, tc, err)
	}
	for status := resp.CopyStatus; status != nil && *status == blob.CopyStatusTypePending; {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
		p, err := dst.GetProperties(ctx, nil)
		if err != nil {
			return azureErr(c, "copy "+fn+" to "+tn, tc, err)
		}
		status = p.CopyStatus
	}
	if del {
		if _, err := src.Delete(ctx, nil); err != nil {
			return azureErr(c, "delete "+fn, fc, err)
		}
	}
	return nil
}
