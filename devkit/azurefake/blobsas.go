package azurefake

import (
	"crypto/hmac"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// sasGrant is what a verified shared access signature allows.
type sasGrant struct {
	account       bool   // account SAS (ss/srt) rather than service SAS (sr)
	resourceTypes string // account SAS: s, c, o
	resource      string // service SAS: c or b
	perms         string
}

func sasAuthFailed(detail string) *blobError {
	e := newBlobError(http.StatusForbidden, "AuthenticationFailed", "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.")
	e.extra = map[string]string{"AuthenticationErrorDetail": detail}
	return e
}

// checkSAS verifies an account or service SAS (versions 2020-12-06 and
// later) against the account key and its time window. The signed fields
// are taken exactly as the query carries them, as the service does.
func (a *StorageAccount) checkSAS(q url.Values, now time.Time) (*sasGrant, *blobError) {
	g := &sasGrant{perms: q.Get("sp")}
	var toSign string
	switch {
	case q.Get("ss") != "":
		if !strings.Contains(q.Get("ss"), "b") {
			return nil, newBlobError(http.StatusForbidden, "AuthorizationServiceMismatch", "This request is not authorized to perform this operation using this service.")
		}
		g.account, g.resourceTypes = true, q.Get("srt")
		toSign = strings.Join([]string{a.opts.Name, q.Get("sp"), q.Get("ss"), q.Get("srt"), q.Get("st"), q.Get("se"),
			q.Get("sip"), q.Get("spr"), q.Get("sv"), q.Get("ses"), ""}, "\n")
	case q.Get("sr") == "c" || q.Get("sr") == "b":
		// A service SAS signs the request's container and blob: permits
		// verifies it, knowing them.
		g.resource = q.Get("sr")
		return g, nil
	default:
		return nil, sasAuthFailed("The SAS carries neither ss (account SAS) nor sr (service SAS).")
	}
	if err := checkSASSignature(a, q, toSign, now); err != nil {
		return nil, err
	}
	return g, nil
}

func checkSASSignature(a *StorageAccount, q url.Values, toSign string, now time.Time) *blobError {
	if !hmac.Equal([]byte(a.sign(toSign)), []byte(q.Get("sig"))) {
		return sasAuthFailed("Signature did not match. String to sign used was " + toSign)
	}
	if st := q.Get("st"); st != "" {
		if t, err := time.Parse(time.RFC3339, st); err == nil && now.Before(t) {
			return sasAuthFailed("Signed start time is in the future.")
		}
	}
	se, err := time.Parse(time.RFC3339, q.Get("se"))
	if err != nil || !now.Before(se) {
		return sasAuthFailed("Signed expiry time [" + q.Get("se") + "] must be after signed start time and in the future.")
	}
	if p := q.Get("spr"); p != "" && !strings.Contains(p, "https") {
		return sasAuthFailed("The SAS protocol does not allow HTTPS.")
	}
	return nil
}

// permits checks the operation against the SAS's resource and permissions.
func (g *sasGrant) permits(r *http.Request, a *StorageAccount, op, containerName, blobName string, now time.Time) *blobError {
	q := r.URL.Query()
	if !g.account {
		canon := "/blob/" + a.opts.Name + "/" + containerName
		if g.resource == "b" {
			canon += "/" + blobName
		}
		toSign := strings.Join([]string{q.Get("sp"), q.Get("st"), q.Get("se"), canon, q.Get("si"), q.Get("sip"), q.Get("spr"),
			q.Get("sv"), q.Get("sr"), q.Get("sst"), q.Get("ses"), q.Get("rscc"), q.Get("rscd"), q.Get("rsce"), q.Get("rscl"), q.Get("rsct")}, "\n")
		if err := checkSASSignature(a, q, toSign, now); err != nil {
			return err
		}
		if g.resource == "b" && blobName == "" {
			return newBlobError(http.StatusForbidden, "AuthorizationResourceTypeMismatch", "This request is not authorized to perform this operation using this resource type.")
		}
	}
	var typ, perm string
	switch op {
	case "ListContainers", "GetBlobServiceProperties":
		typ, perm = "s", "l"
	case "ListBlobs":
		typ, perm = "c", "l"
	case "CreateContainer", "SetContainerMetadata":
		typ, perm = "c", "w"
	case "DeleteContainer":
		typ, perm = "c", "d"
	case "GetContainerProperties":
		typ, perm = "c", "r"
	case "GetBlob", "GetBlobProperties", "GetBlockList":
		typ, perm = "o", "r"
	case "DeleteBlob":
		typ, perm = "o", "d"
	default:
		typ, perm = "o", "w"
	}
	if g.account && !strings.Contains(g.resourceTypes, typ) {
		return newBlobError(http.StatusForbidden, "AuthorizationResourceTypeMismatch", "This request is not authorized to perform this operation using this resource type.")
	}
	if !strings.Contains(g.perms, perm) && !(perm == "w" && strings.ContainsAny(g.perms, "c") && op != "SetContainerMetadata") {
		return errPermissionMismatch()
	}
	return nil
}
