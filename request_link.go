package steward

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Confirmation links let a contact confirm a change request from an e-mail
// without logging in. A link names the request, the contact and an expiry,
// and carries an HMAC-SHA256 over them under a key the instance keeps
// secret (never in the ledger).

const keyConfirmLinks = "key/confirm-links"

// LinkKey returns the command that reads the instance's link key, making
// it on first use.
func LinkKey() Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		k, err := tx.Secret(ctx, keyConfirmLinks)
		if err == nil {
			return k, nil
		}
		if ErrorCode(err) != ENOTFOUND {
			return nil, err
		}
		k = make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return nil, err
		}
		return k, tx.PutSecret(ctx, keyConfirmLinks, k)
	}
}

// ReadLinkKey reads the link key, or ENOTFOUND before [LinkKey] made it.
func ReadLinkKey(ctx context.Context, s interface {
	Secret(ctx context.Context, key string) ([]byte, error)
}) ([]byte, error) {
	return s.Secret(ctx, keyConfirmLinks)
}

func linkMAC(key []byte, id int64, contact string, exp int64) string {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "steward confirm\n%d\n%s\n%d\n", id, contact, exp)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// ConfirmLinkQuery returns the query string of a confirmation link for
// contact on request id, valid until exp.
func ConfirmLinkQuery(key []byte, id int64, contact string, exp time.Time) string {
	v := url.Values{}
	v.Set("contact", contact)
	v.Set("expires", strconv.FormatInt(exp.Unix(), 10))
	v.Set("sig", linkMAC(key, id, contact, exp.Unix()))
	return v.Encode()
}

// VerifyConfirmLink checks a confirmation link's query for request id at
// time now and returns the contact it is for.
func VerifyConfirmLink(key []byte, id int64, q url.Values, now time.Time) (string, error) {
	contact, exps, sig := q.Get("contact"), q.Get("expires"), q.Get("sig")
	exp, err := strconv.ParseInt(exps, 10, 64)
	if contact == "" || err != nil || sig == "" || len(sig) > 100 || len(contact) > 64 {
		return "", Errorf(EINVALID, "the confirmation link is incomplete; use the whole link from the e-mail")
	}
	if !hmac.Equal([]byte(sig), []byte(linkMAC(key, id, contact, exp))) {
		return "", Errorf(EFORBIDDEN, "the confirmation link is not valid for request %d", id)
	}
	if now.Unix() >= exp {
		return "", Errorf(EFORBIDDEN, "the confirmation link expired at %s", time.Unix(exp, 0).UTC().Format(time.RFC3339))
	}
	return strings.ToLower(contact), nil
}

// MarkDone returns the command that records, as a private marker outside
// the ledger, that a side effect (an e-mail) was carried out, so that it is
// not repeated; it returns false if the marker was set already.
func MarkDone(key string) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		k := "done/" + key
		if _, err := tx.Secret(ctx, k); err == nil {
			return false, nil
		} else if ErrorCode(err) != ENOTFOUND {
			return nil, err
		}
		return true, tx.PutSecret(ctx, k, []byte(tx.Now().Format(time.RFC3339)))
	}
}
