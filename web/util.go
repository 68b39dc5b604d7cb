package web

import (
	"encoding/base64"
	"strconv"

	"steward"
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func parseSeq(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, steward.Errorf(steward.EINVALID, "%q is not an entry number", s)
	}
	return n, nil
}
