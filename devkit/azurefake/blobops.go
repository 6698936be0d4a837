package azurefake

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Blob service limits the emulator enforces.
const (
	maxPutBlobBytes     = 5000 << 20
	maxBlockBytes       = 4000 << 20
	maxBlockIDBytes     = 64
	maxUncommitted      = 100_000
	maxCommittedBlocks  = 50_000
	maxListResults      = 5000
	maxBlockListXMLSize = 16 << 20
)

var containerNameRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9]|-[a-z0-9]){2,62}$`)

func (a *StorageAccount) dispatch(op string, c *blobCall) *blobError {
	if c.container != "" && c.container != "$root" && !containerNameRE.MatchString(c.container) {
		return newBlobError(http.StatusBadRequest, "InvalidResourceName", "The specified resource name contains invalid characters.")
	}
	if len(c.blob) > 1024 {
		return newBlobError(http.StatusBadRequest, "InvalidResourceName", "The specified resource name length is not within the permissible limits.")
	}
	switch op {
	case "ListContainers":
		return a.listContainers(c)
	case "GetBlobServiceProperties":
		c.w.Header().Set("Content-Type", "application/xml")
		_, _ = io.WriteString(c.w, `<?xml version="1.0" encoding="utf-8"?><StorageServiceProperties><DefaultServiceVersion>`+blobAPIVersion+`</DefaultServiceVersion></StorageServiceProperties>`)
		return nil
	case "CreateContainer":
		return a.createContainer(c)
	case "DeleteContainer":
		return a.deleteContainer(c)
	case "GetContainerProperties":
		return a.containerProperties(c)
	case "SetContainerMetadata":
		return a.setContainerMetadata(c)
	case "ListBlobs":
		return a.listBlobs(c)
	case "PutBlob":
		return a.putBlob(c)
	case "PutBlock":
		return a.putBlock(c)
	case "PutBlockList":
		return a.putBlockList(c)
	case "GetBlockList":
		return a.getBlockList(c)
	case "GetBlob", "GetBlobProperties":
		return a.getBlob(c, op == "GetBlob")
	case "DeleteBlob":
		return a.deleteBlob(c)
	case "SetBlobMetadata":
		return a.setBlobMetadata(c)
	case "CopyBlob", "CopyBlobFromURL":
		return a.copyBlob(c, op == "CopyBlobFromURL")
	}
	return newBlobError(http.StatusNotImplemented, "NotImplemented", "The emulator does not implement "+op+".")
}

// newETag returns a fresh ETag in the service's shape ("0x8D…").
func (a *StorageAccount) newETag() string {
	a.seq++
	return fmt.Sprintf("\"0x8DD%013X\"", uint64(a.e.clock.Now().UnixNano()/100)&0xFFFFFFFFFFFF+a.seq)
}

func metadataFrom(h http.Header) map[string]string {
	m := map[string]string{}
	for k, v := range h {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-ms-meta-") && len(v) > 0 {
			m[strings.TrimPrefix(lk, "x-ms-meta-")] = v[0]
		}
	}
	return m
}

func writeMetadata(h http.Header, m map[string]string) {
	for k, v := range m {
		h.Set("x-ms-meta-"+k, v)
	}
}

func setTimes(h http.Header, etag string, modified time.Time) {
	h.Set("ETag", etag)
	h.Set("Last-Modified", modified.UTC().Format(http.TimeFormat))
}

// conditions evaluates the conditional headers against a resource.
// notModified is set when a read must answer 304.
func conditions(r *http.Request, exists bool, etag string, modified time.Time, write bool) (notModified bool, err *blobError) {
	h := r.Header
	if im := h.Get("If-Match"); im != "" {
		if !exists || (im != "*" && !etagListHas(im, etag)) {
			return false, errConditionNotMet()
		}
	}
	if inm := h.Get("If-None-Match"); inm != "" && exists {
		if inm == "*" && write {
			return false, newBlobError(http.StatusConflict, "BlobAlreadyExists", "The specified blob already exists.")
		}
		if inm == "*" || etagListHas(inm, etag) {
			if !write {
				return true, nil
			}
			return false, errConditionNotMet()
		}
	}
	if s := h.Get("If-Modified-Since"); s != "" && exists {
		if t, perr := http.ParseTime(s); perr == nil && !modified.Truncate(time.Second).After(t) {
			if !write {
				return true, nil
			}
			return false, errConditionNotMet()
		}
	}
	if s := h.Get("If-Unmodified-Since"); s != "" && exists {
		if t, perr := http.ParseTime(s); perr == nil && modified.Truncate(time.Second).After(t) {
			return false, errConditionNotMet()
		}
	}
	return false, nil
}

func etagListHas(list, etag string) bool {
	for _, e := range strings.Split(list, ",") {
		if strings.TrimSpace(e) == etag {
			return true
		}
	}
	return false
}

func (a *StorageAccount) createContainer(c *blobCall) *blobError {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.containers[c.container] != nil {
		return newBlobError(http.StatusConflict, "ContainerAlreadyExists", "The specified container already exists.")
	}
	if pa := c.r.Header.Get("x-ms-blob-public-access"); pa != "" {
		return newBlobError(http.StatusConflict, "PublicAccessNotPermitted", "Public access is not permitted on this storage account.")
	}
	ct := &container{name: c.container, created: c.now, modified: c.now, etag: a.newETag(), metadata: metadataFrom(c.r.Header),
		blobs: map[string]*blobEntry{}, pending: map[string]*pendingBlocks{}}
	a.containers[c.container] = ct
	setTimes(c.w.Header(), ct.etag, ct.modified)
	c.w.WriteHeader(http.StatusCreated)
	return nil
}

func (a *StorageAccount) deleteContainer(c *blobCall) *blobError {
	a.mu.Lock()
	ct := a.containers[c.container]
	if ct == nil {
		a.mu.Unlock()
		return errContainerNotFound()
	}
	if _, err := conditions(c.r, true, ct.etag, ct.modified, true); err != nil {
		a.mu.Unlock()
		return err
	}
	delete(a.containers, c.container)
	var parts []part
	for _, b := range ct.blobs {
		parts = append(parts, b.parts...)
	}
	for _, p := range ct.pending {
		parts = append(parts, slices.Collect(maps.Values(p.blocks))...)
	}
	a.mu.Unlock()
	removeParts(parts)
	c.w.WriteHeader(http.StatusAccepted)
	return nil
}

func (a *StorageAccount) containerProperties(c *blobCall) *blobError {
	a.mu.Lock()
	defer a.mu.Unlock()
	ct := a.containers[c.container]
	if ct == nil {
		return errContainerNotFound()
	}
	h := c.w.Header()
	setTimes(h, ct.etag, ct.modified)
	writeMetadata(h, ct.metadata)
	h.Set("x-ms-lease-status", "unlocked")
	h.Set("x-ms-lease-state", "available")
	h.Set("x-ms-has-immutability-policy", "false")
	h.Set("x-ms-has-legal-hold", "false")
	h.Set("x-ms-default-encryption-scope", "$account-encryption-key")
	h.Set("x-ms-deny-encryption-scope-override", "false")
	c.w.WriteHeader(http.StatusOK)
	return nil
}

func (a *StorageAccount) setContainerMetadata(c *blobCall) *blobError {
	a.mu.Lock()
	defer a.mu.Unlock()
	ct := a.containers[c.container]
	if ct == nil {
		return errContainerNotFound()
	}
	ct.metadata, ct.modified, ct.etag = metadataFrom(c.r.Header), c.now, a.newETag()
	setTimes(c.w.Header(), ct.etag, ct.modified)
	c.w.WriteHeader(http.StatusOK)
	return nil
}

func (a *StorageAccount) listContainers(c *blobCall) *blobError {
	q := c.r.URL.Query()
	prefix := q.Get("prefix")
	a.mu.Lock()
	names := slices.Sorted(maps.Keys(a.containers))
	type props struct {
		LastModified string `xml:"Last-Modified"`
		Etag         string `xml:"Etag"`
		LeaseStatus  string `xml:"LeaseStatus"`
		LeaseState   string `xml:"LeaseState"`
	}
	type item struct {
		Name       string `xml:"Name"`
		Properties props  `xml:"Properties"`
	}
	var items []item
	for _, n := range names {
		if !strings.HasPrefix(n, prefix) || (q.Get("marker") != "" && n < q.Get("marker")) {
			continue
		}
		ct := a.containers[n]
		items = append(items, item{Name: n, Properties: props{LastModified: ct.modified.UTC().Format(http.TimeFormat), Etag: strings.Trim(ct.etag, `"`), LeaseStatus: "unlocked", LeaseState: "available"}})
	}
	a.mu.Unlock()
	type result struct {
		XMLName         xml.Name `xml:"EnumerationResults"`
		ServiceEndpoint string   `xml:"ServiceEndpoint,attr"`
		Prefix          string   `xml:"Prefix,omitempty"`
		Containers      []item   `xml:"Containers>Container"`
		NextMarker      string   `xml:"NextMarker"`
	}
	return writeXML(c.w, result{ServiceEndpoint: a.url, Prefix: prefix, Containers: items})
}

func writeXML(w http.ResponseWriter, v any) *blobError {
	b, err := xml.Marshal(v)
	if err != nil {
		return newBlobError(http.StatusInternalServerError, "InternalError", err.Error())
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, xml.Header)
	_, _ = w.Write(b)
	return nil
}

// blobListing is List Blobs' answer.
type blobListing struct {
	XMLName         xml.Name    `xml:"EnumerationResults"`
	ServiceEndpoint string      `xml:"ServiceEndpoint,attr"`
	ContainerName   string      `xml:"ContainerName,attr"`
	Prefix          string      `xml:"Prefix,omitempty"`
	Marker          string      `xml:"Marker"`
	MaxResults      int         `xml:"MaxResults,omitempty"`
	Delimiter       string      `xml:"Delimiter,omitempty"`
	Blobs           listedBlobs `xml:"Blobs"`
	NextMarker      string      `xml:"NextMarker"`
}

type listedBlobs struct {
	Blob       []listedBlob   `xml:"Blob"`
	BlobPrefix []listedPrefix `xml:"BlobPrefix"`
}

type listedPrefix struct {
	Name string `xml:"Name"`
}

type listedBlob struct {
	Name       string          `xml:"Name"`
	Properties listedProps     `xml:"Properties"`
	Metadata   *listedMetadata `xml:"Metadata,omitempty"`
}

type listedMetadata struct {
	Items []listedMetaItem
}

type listedMetaItem struct {
	XMLName xml.Name
	Value   string `xml:",chardata"`
}

func (m listedMetadata) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	for _, it := range m.Items {
		if err := e.EncodeElement(it.Value, xml.StartElement{Name: it.XMLName}); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

type listedProps struct {
	CreationTime  string `xml:"Creation-Time"`
	LastModified  string `xml:"Last-Modified"`
	Etag          string `xml:"Etag"`
	ContentLength int64  `xml:"Content-Length"`
	ContentType   string `xml:"Content-Type"`
	ContentMD5    string `xml:"Content-MD5"`
	BlobType      string `xml:"BlobType"`
	AccessTier    string `xml:"AccessTier"`
	Inferred      bool   `xml:"AccessTierInferred"`
	LeaseStatus   string `xml:"LeaseStatus"`
	LeaseState    string `xml:"LeaseState"`
	Encrypted     bool   `xml:"ServerEncrypted"`
}

func (a *StorageAccount) listBlobs(c *blobCall) *blobError {
	q := c.r.URL.Query()
	prefix, delim, marker := q.Get("prefix"), q.Get("delimiter"), q.Get("marker")
	max := maxListResults
	if s := q.Get("maxresults"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return newBlobError(http.StatusBadRequest, "OutOfRangeQueryParameterValue", "One of the query parameters specified in the request URI is outside the permissible range.")
		}
		max = min(n, maxListResults)
	}
	start := ""
	if marker != "" {
		b, err := base64.RawURLEncoding.DecodeString(marker)
		if err != nil {
			return newBlobError(http.StatusBadRequest, "InvalidQueryParameterValue", "Value for one of the query parameters specified in the request URI is invalid.")
		}
		start = string(b)
	}
	withMeta := strings.Contains(q.Get("include"), "metadata")
	a.mu.Lock()
	defer a.mu.Unlock()
	ct := a.containers[c.container]
	if ct == nil {
		return errContainerNotFound()
	}
	out := blobListing{ServiceEndpoint: a.url, ContainerName: c.container,
		Prefix: prefix, Marker: marker, Delimiter: delim}
	if q.Get("maxresults") != "" {
		out.MaxResults = max
	}
	seen := map[string]bool{}
	n := 0
	for _, name := range slices.Sorted(maps.Keys(ct.blobs)) {
		if !strings.HasPrefix(name, prefix) || name < start {
			continue
		}
		entryName, isPrefix := name, false
		if delim != "" {
			if i := strings.Index(name[len(prefix):], delim); i >= 0 {
				entryName, isPrefix = name[:len(prefix)+i+len(delim)], true
				if seen[entryName] {
					continue
				}
				if entryName < start {
					continue
				}
			}
		}
		if n == max {
			out.NextMarker = base64.RawURLEncoding.EncodeToString([]byte(entryName))
			break
		}
		n++
		if isPrefix {
			seen[entryName] = true
			out.Blobs.BlobPrefix = append(out.Blobs.BlobPrefix, listedPrefix{Name: entryName})
			continue
		}
		b := ct.blobs[name]
		lb := listedBlob{Name: name, Properties: listedProps{
			CreationTime: b.created.UTC().Format(http.TimeFormat), LastModified: b.modified.UTC().Format(http.TimeFormat),
			Etag: strings.Trim(b.etag, `"`), ContentLength: b.size, ContentType: b.contentType, BlobType: "BlockBlob",
			AccessTier: "Hot", Inferred: true, LeaseStatus: "unlocked", LeaseState: "available", Encrypted: true,
		}}
		if b.contentMD5 != nil {
			lb.Properties.ContentMD5 = base64.StdEncoding.EncodeToString(b.contentMD5)
		}
		if withMeta {
			md := &listedMetadata{}
			for _, k := range slices.Sorted(maps.Keys(b.metadata)) {
				md.Items = append(md.Items, listedMetaItem{XMLName: xml.Name{Local: k}, Value: b.metadata[k]})
			}
			lb.Metadata = md
		}
		out.Blobs.Blob = append(out.Blobs.Blob, lb)
	}
	return writeXML(c.w, out)
}

func contentTypeOf(h http.Header) string {
	if ct := h.Get("x-ms-blob-content-type"); ct != "" {
		return ct
	}
	return "application/octet-stream"
}

// existing returns the container and the current blob (nil when none),
// with a.mu held.
func (a *StorageAccount) existing(c *blobCall) (*container, *blobEntry, *blobError) {
	ct := a.containers[c.container]
	if ct == nil {
		return nil, nil, errContainerNotFound()
	}
	return ct, ct.blobs[c.blob], nil
}

func (a *StorageAccount) checkWrite(c *blobCall) *blobError {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, b, err := a.existing(c)
	if err != nil {
		return err
	}
	if b == nil {
		_, err = conditions(c.r, false, "", time.Time{}, true)
	} else {
		_, err = conditions(c.r, true, b.etag, b.modified, true)
	}
	return err
}

// commit installs a new version of a blob, re-checking the conditions
// under the lock, and removes the parts it replaces.
func (a *StorageAccount) commit(c *blobCall, nb *blobEntry) *blobError {
	a.mu.Lock()
	ct, old, err := a.existing(c)
	if err == nil {
		if old == nil {
			_, err = conditions(c.r, false, "", time.Time{}, true)
		} else {
			_, err = conditions(c.r, true, old.etag, old.modified, true)
		}
	}
	if err != nil {
		// Parts the current blob still uses (Put Block List can reuse
		// committed blocks) must survive a refused commit.
		inUse := map[string]bool{}
		if old != nil {
			for _, p := range old.parts {
				inUse[p.file] = true
			}
		}
		a.mu.Unlock()
		removeParts(slices.DeleteFunc(slices.Clone(nb.parts), func(p part) bool { return inUse[p.file] }))
		return err
	}
	nb.etag, nb.modified, nb.created = a.newETag(), c.now, c.now
	if old != nil {
		nb.created = old.created
	}
	ct.blobs[c.blob] = nb
	var drop []part
	if old != nil {
		keep := map[string]bool{}
		for _, p := range nb.parts {
			keep[p.file] = true
		}
		for _, p := range old.parts {
			if !keep[p.file] {
				drop = append(drop, p)
			}
		}
	}
	a.mu.Unlock()
	removeParts(drop)
	h := c.w.Header()
	setTimes(h, nb.etag, nb.modified)
	h.Set("x-ms-request-server-encrypted", "true")
	return nil
}

func checkMD5(c *blobCall, sum []byte) *blobError {
	if want := c.r.Header.Get("Content-MD5"); want != "" && want != base64.StdEncoding.EncodeToString(sum) {
		return newBlobError(http.StatusBadRequest, "Md5Mismatch", "The MD5 value specified in the request did not match with the MD5 value calculated by the server.")
	}
	return nil
}

func (a *StorageAccount) putBlob(c *blobCall) *blobError {
	switch t := c.r.Header.Get("x-ms-blob-type"); t {
	case "BlockBlob":
	case "":
		return newBlobError(http.StatusBadRequest, "MissingRequiredHeader", "An HTTP header that's mandatory for this request is not specified.")
	default:
		return newBlobError(http.StatusBadRequest, "FeatureNotSupportedByEmulator", "The emulator serves block blobs only; "+t+" is not supported.")
	}
	if c.r.ContentLength > maxPutBlobBytes {
		return newBlobError(http.StatusRequestEntityTooLarge, "RequestBodyTooLarge", "The request body is too large and exceeds the maximum permissible limit.")
	}
	if err := a.checkWrite(c); err != nil {
		return err
	}
	p, sum, werr := a.writePart(c.r.Body, maxPutBlobBytes)
	if werr != nil {
		return bodyError(werr)
	}
	if err := checkMD5(c, sum); err != nil {
		removeParts([]part{p})
		return err
	}
	md5 := sum
	if s := c.r.Header.Get("x-ms-blob-content-md5"); s != "" {
		md5, _ = base64.StdEncoding.DecodeString(s)
	}
	nb := &blobEntry{name: c.blob, parts: []part{p}, size: p.size, contentType: contentTypeOf(c.r.Header), contentMD5: md5, metadata: metadataFrom(c.r.Header)}
	if err := a.commit(c, nb); err != nil {
		return err
	}
	c.w.Header().Set("Content-MD5", base64.StdEncoding.EncodeToString(sum))
	c.w.WriteHeader(http.StatusCreated)
	return nil
}

func bodyError(err error) *blobError {
	if err == errTooLarge {
		return newBlobError(http.StatusRequestEntityTooLarge, "RequestBodyTooLarge", "The request body is too large and exceeds the maximum permissible limit.")
	}
	return newBlobError(http.StatusBadRequest, "IncompleteBody", "The request body is incomplete: "+err.Error())
}

func (a *StorageAccount) putBlock(c *blobCall) *blobError {
	id := c.r.URL.Query().Get("blockid")
	raw, derr := base64.StdEncoding.DecodeString(id)
	if id == "" || derr != nil || len(raw) > maxBlockIDBytes {
		return newBlobError(http.StatusBadRequest, "InvalidQueryParameterValue", "Value for one of the query parameters specified in the request URI is invalid.")
	}
	a.mu.Lock()
	ct := a.containers[c.container]
	a.mu.Unlock()
	if ct == nil {
		return errContainerNotFound()
	}
	p, sum, werr := a.writePart(c.r.Body, maxBlockBytes)
	if werr != nil {
		return bodyError(werr)
	}
	if err := checkMD5(c, sum); err != nil {
		removeParts([]part{p})
		return err
	}
	a.mu.Lock()
	pb := ct.pending[c.blob]
	if pb == nil {
		pb = &pendingBlocks{blocks: map[string]part{}}
		ct.pending[c.blob] = pb
	}
	for other := range pb.blocks {
		if len(other) != len(id) {
			a.mu.Unlock()
			removeParts([]part{p})
			return newBlobError(http.StatusBadRequest, "InvalidBlobOrBlock", "The specified blob or block content is invalid.")
		}
		break
	}
	if len(pb.blocks) >= maxUncommitted {
		a.mu.Unlock()
		removeParts([]part{p})
		return newBlobError(http.StatusConflict, "BlockCountExceedsLimit", "The uncommitted block count cannot exceed the maximum limit of 100,000 blocks.")
	}
	old, had := pb.blocks[id]
	pb.blocks[id] = p
	a.mu.Unlock()
	if had {
		removeParts([]part{old})
	}
	c.w.Header().Set("Content-MD5", base64.StdEncoding.EncodeToString(sum))
	c.w.Header().Set("x-ms-request-server-encrypted", "true")
	c.w.WriteHeader(http.StatusCreated)
	return nil
}

// blockListRequest is Put Block List's body.
type blockListRequest struct {
	Items []struct {
		XMLName xml.Name
		ID      string `xml:",chardata"`
	} `xml:",any"`
}

func (a *StorageAccount) putBlockList(c *blobCall) *blobError {
	var req blockListRequest
	if err := xml.NewDecoder(io.LimitReader(c.r.Body, maxBlockListXMLSize)).Decode(&req); err != nil {
		return newBlobError(http.StatusBadRequest, "InvalidXmlDocument", "XML specified is not syntactically valid.")
	}
	if len(req.Items) > maxCommittedBlocks {
		return newBlobError(http.StatusBadRequest, "BlockListTooLong", "The block list may not contain more than 50,000 blocks.")
	}
	a.mu.Lock()
	ct, old, err := a.existing(c)
	if err != nil {
		a.mu.Unlock()
		return err
	}
	committed := map[string]part{}
	if old != nil {
		for i, id := range old.blockIDs {
			committed[id] = old.parts[i]
		}
	}
	var pending map[string]part
	if pb := ct.pending[c.blob]; pb != nil {
		pending = pb.blocks
	}
	nb := &blobEntry{name: c.blob, contentType: contentTypeOf(c.r.Header), metadata: metadataFrom(c.r.Header)}
	used := map[string]bool{}
	for _, it := range req.Items {
		id := strings.TrimSpace(it.ID)
		var p part
		ok := false
		switch it.XMLName.Local {
		case "Latest":
			if p, ok = pending[id]; !ok {
				p, ok = committed[id]
			}
		case "Uncommitted":
			p, ok = pending[id]
		case "Committed":
			p, ok = committed[id]
		}
		if !ok {
			a.mu.Unlock()
			return newBlobError(http.StatusBadRequest, "InvalidBlockList", "The specified block list is invalid.")
		}
		if used[p.file] {
			// The same block listed twice: its bytes appear twice, so the
			// second mention needs a file of its own.
			a.mu.Unlock()
			np, _, cerr := a.copyParts([]part{p})
			a.mu.Lock()
			if cerr != nil {
				a.mu.Unlock()
				return newBlobError(http.StatusInternalServerError, "InternalError", cerr.Error())
			}
			p = np[0]
		}
		used[p.file] = true
		nb.parts = append(nb.parts, p)
		nb.blockIDs = append(nb.blockIDs, id)
		nb.size += p.size
	}
	if s := c.r.Header.Get("x-ms-blob-content-md5"); s != "" {
		nb.contentMD5, _ = base64.StdEncoding.DecodeString(s)
	}
	var drop []part
	for _, p := range pending {
		if !used[p.file] {
			drop = append(drop, p)
		}
	}
	delete(ct.pending, c.blob)
	a.mu.Unlock()
	removeParts(drop)
	if err := a.commit(c, nb); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusCreated)
	return nil
}

func (a *StorageAccount) getBlockList(c *blobCall) *blobError {
	a.mu.Lock()
	ct, b, err := a.existing(c)
	if err != nil {
		a.mu.Unlock()
		return err
	}
	type block struct {
		Name string `xml:"Name"`
		Size int64  `xml:"Size"`
	}
	type result struct {
		XMLName     xml.Name `xml:"BlockList"`
		Committed   []block  `xml:"CommittedBlocks>Block"`
		Uncommitted []block  `xml:"UncommittedBlocks>Block"`
	}
	var out result
	if b != nil {
		for i, id := range b.blockIDs {
			out.Committed = append(out.Committed, block{Name: id, Size: b.parts[i].size})
		}
	}
	if pb := ct.pending[c.blob]; pb != nil {
		for _, id := range slices.Sorted(maps.Keys(pb.blocks)) {
			out.Uncommitted = append(out.Uncommitted, block{Name: id, Size: pb.blocks[id].size})
		}
	}
	a.mu.Unlock()
	if b == nil && len(out.Uncommitted) == 0 {
		return errBlobNotFound()
	}
	if b != nil {
		setTimes(c.w.Header(), b.etag, b.modified)
		c.w.Header().Set("x-ms-blob-content-length", strconv.FormatInt(b.size, 10))
	}
	return writeXML(c.w, out)
}

// parseRange reads x-ms-range (preferred) or Range: bytes=start-[end].
func parseRange(h http.Header) (start, end int64, ok bool, err *blobError) {
	s := h.Get("x-ms-range")
	if s == "" {
		s = h.Get("Range")
	}
	if s == "" {
		return 0, 0, false, nil
	}
	bad := newBlobError(http.StatusBadRequest, "InvalidHeaderValue", "The value for one of the HTTP headers is not in the correct format.")
	spec, found := strings.CutPrefix(s, "bytes=")
	if !found {
		return 0, 0, false, bad
	}
	from, to, _ := strings.Cut(spec, "-")
	start, perr := strconv.ParseInt(from, 10, 64)
	if perr != nil || start < 0 {
		return 0, 0, false, bad
	}
	end = -1
	if to != "" {
		if end, perr = strconv.ParseInt(to, 10, 64); perr != nil || end < start {
			return 0, 0, false, bad
		}
	}
	return start, end, true, nil
}

func (a *StorageAccount) getBlob(c *blobCall, body bool) *blobError {
	a.mu.Lock()
	_, b, err := a.existing(c)
	if err == nil && b == nil {
		err = errBlobNotFound()
	}
	if err != nil {
		a.mu.Unlock()
		return err
	}
	snap := *b
	var pinned map[string]*os.File
	if body {
		pinned = pin(snap.parts)
	}
	a.mu.Unlock()
	rr := &rangeReader{parts: snap.parts, pinned: pinned}
	defer rr.Close()
	start, end, ranged, rerr := parseRange(c.r.Header)
	if rerr != nil {
		return rerr
	}
	h := c.w.Header()
	if body && ranged && start >= snap.size && !(start == 0 && snap.size == 0) {
		h.Set("Content-Range", "bytes */"+strconv.FormatInt(snap.size, 10))
		return newBlobError(http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "The range specified is invalid for the current size of the resource.")
	}
	setTimes(h, snap.etag, snap.modified)
	notModified, cerr := conditions(c.r, true, snap.etag, snap.modified, false)
	if cerr != nil {
		return cerr
	}
	if notModified {
		c.w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Type", snap.contentType)
	h.Set("Accept-Ranges", "bytes")
	h.Set("x-ms-blob-type", "BlockBlob")
	h.Set("x-ms-creation-time", snap.created.UTC().Format(http.TimeFormat))
	h.Set("x-ms-lease-state", "available")
	h.Set("x-ms-lease-status", "unlocked")
	h.Set("x-ms-server-encrypted", "true")
	writeMetadata(h, snap.metadata)
	if !body {
		h.Set("Content-Length", strconv.FormatInt(snap.size, 10))
		h.Set("x-ms-access-tier", "Hot")
		h.Set("x-ms-access-tier-inferred", "true")
		if snap.contentMD5 != nil {
			h.Set("Content-MD5", base64.StdEncoding.EncodeToString(snap.contentMD5))
		}
		c.w.WriteHeader(http.StatusOK)
		return nil
	}
	status, n := http.StatusOK, snap.size
	if ranged {
		if end < 0 || end >= snap.size {
			end = snap.size - 1
		}
		n = end - start + 1
		if snap.size > 0 {
			status = http.StatusPartialContent
			h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, snap.size))
		}
		if snap.contentMD5 != nil {
			h.Set("x-ms-blob-content-md5", base64.StdEncoding.EncodeToString(snap.contentMD5))
		}
	} else if snap.contentMD5 != nil {
		h.Set("Content-MD5", base64.StdEncoding.EncodeToString(snap.contentMD5))
	}
	h.Set("Content-Length", strconv.FormatInt(n, 10))
	c.w.WriteHeader(status)
	rr.off, rr.n = start, n
	_, _ = io.Copy(c.w, rr)
	return nil
}

func (a *StorageAccount) deleteBlob(c *blobCall) *blobError {
	a.mu.Lock()
	ct, b, err := a.existing(c)
	if err == nil && b == nil {
		err = errBlobNotFound()
	}
	if err == nil {
		_, err = conditions(c.r, true, b.etag, b.modified, true)
	}
	if err != nil {
		a.mu.Unlock()
		return err
	}
	delete(ct.blobs, c.blob)
	a.mu.Unlock()
	removeParts(b.parts)
	c.w.Header().Set("x-ms-delete-type-permanent", "true")
	c.w.WriteHeader(http.StatusAccepted)
	return nil
}

func (a *StorageAccount) setBlobMetadata(c *blobCall) *blobError {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, b, err := a.existing(c)
	if err == nil && b == nil {
		err = errBlobNotFound()
	}
	if err == nil {
		_, err = conditions(c.r, true, b.etag, b.modified, true)
	}
	if err != nil {
		return err
	}
	b.metadata, b.modified, b.etag = metadataFrom(c.r.Header), c.now, a.newETag()
	setTimes(c.w.Header(), b.etag, b.modified)
	c.w.WriteHeader(http.StatusOK)
	return nil
}

// copyBlob serves Copy Blob (completed at once: x-ms-copy-status success)
// and Copy Blob From URL (synchronous). The source must be a blob of this
// account; it is authorised by a SAS in its URL, by
// x-ms-copy-source-authorization, or — for Copy Blob only — by the
// caller's own credential, as the service does within one account.
func (a *StorageAccount) copyBlob(c *blobCall, sync bool) *blobError {
	src, perr := url.Parse(c.r.Header.Get("x-ms-copy-source"))
	cannot := func(status int, msg string) *blobError {
		return newBlobError(status, "CannotVerifyCopySource", msg)
	}
	if perr != nil || src.Host != strings.TrimPrefix(strings.TrimSuffix(a.url, "/"+a.opts.Name+"/"), "https://") {
		return cannot(http.StatusBadRequest, "The copy source must be a blob of this storage account in the emulator.")
	}
	srcAccount, rest, _ := strings.Cut(strings.TrimPrefix(src.Path, "/"), "/")
	srcContainer, srcBlob, _ := strings.Cut(rest, "/")
	if srcAccount != a.opts.Name || srcBlob == "" {
		return cannot(http.StatusBadRequest, "The copy source must be a blob of this storage account in the emulator.")
	}
	switch {
	case src.Query().Get("sig") != "":
		g, err := a.checkSAS(src.Query(), c.now)
		if err == nil {
			fake := &http.Request{Method: http.MethodGet, URL: src, Header: http.Header{}}
			err = g.permits(fake, a, "GetBlob", srcContainer, srcBlob, c.now)
		}
		if err != nil {
			return cannot(http.StatusForbidden, "Server failed to authenticate the request for the copy source: "+err.msg)
		}
	case c.r.Header.Get("x-ms-copy-source-authorization") != "":
		scheme, tok, _ := strings.Cut(c.r.Header.Get("x-ms-copy-source-authorization"), " ")
		sc := &blobCall{now: c.now}
		if !strings.EqualFold(scheme, "Bearer") || a.authBearer(sc, tok) != nil {
			return cannot(http.StatusUnauthorized, "Server failed to authenticate the request for the copy source.")
		}
		if !a.allowed(sc.caller, actionBlobRead, srcContainer) {
			return cannot(http.StatusForbidden, "This request is not authorized to perform this operation using this permission.")
		}
	case sync:
		return cannot(http.StatusUnauthorized, "Server failed to authenticate the request. Copy Blob From URL needs a SAS in x-ms-copy-source or x-ms-copy-source-authorization.")
	case c.oauth && !a.allowed(c.caller, actionBlobRead, srcContainer):
		return errPermissionMismatch()
	case c.sas != nil:
		fake := &http.Request{Method: http.MethodGet, URL: c.r.URL, Header: http.Header{}}
		if err := c.sas.permits(fake, a, "GetBlob", srcContainer, srcBlob, c.now); err != nil {
			return err
		}
	}
	a.mu.Lock()
	sct := a.containers[srcContainer]
	var sb *blobEntry
	if sct != nil {
		sb = sct.blobs[srcBlob]
	}
	if sb == nil {
		a.mu.Unlock()
		return cannot(http.StatusNotFound, "The specified blob does not exist.")
	}
	snap := *sb
	a.mu.Unlock()
	if err := a.checkWrite(c); err != nil {
		return err
	}
	parts, sum, cerr := a.copyParts(snap.parts)
	if cerr != nil {
		return newBlobError(http.StatusInternalServerError, "InternalError", cerr.Error())
	}
	md := metadataFrom(c.r.Header)
	if len(md) == 0 {
		md = maps.Clone(snap.metadata)
	}
	nb := &blobEntry{name: c.blob, parts: parts, size: snap.size, contentType: snap.contentType, contentMD5: sum, metadata: md}
	if err := a.commit(c, nb); err != nil {
		return err
	}
	h := c.w.Header()
	h.Set("x-ms-copy-id", uuid.NewString())
	h.Set("x-ms-copy-status", "success")
	c.w.WriteHeader(http.StatusAccepted)
	return nil
}
