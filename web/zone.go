package web

import (
	"net/http"
	"strconv"

	"steward"
)

// Published is what the web serves of the published root zone.
type Published struct {
	Serial uint32
	Entry  int64             // the zone.published ledger entry it was built from
	Files  map[string][]byte // by name: root.zone, root-anchors.xml, root-anchors.ds, root.hints
}

var zoneFiles = map[string]string{
	"root.zone":        "text/dns; charset=utf-8",
	"root-anchors.xml": "application/xml",
	"root-anchors.ds":  "text/plain; charset=utf-8",
	"root.hints":       "text/plain; charset=utf-8",
}

// GET /zone/{file}: the signed root zone, its trust anchor and root hints.
// Headers name the serial, the ledger entry it was built from and the
// latest checkpoint that covers that entry.
func (s *Server) zoneFile(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	ct, ok := zoneFiles[name]
	if !ok {
		s.problem(w, r, steward.Errorf(steward.ENOTFOUND, "no published file %q: try root.zone, root-anchors.xml, root-anchors.ds or root.hints", name))
		return
	}
	var p *Published
	if s.cfg.Published != nil {
		p = s.cfg.Published()
	}
	if p == nil {
		s.problem(w, r, steward.Errorf(steward.ENOTFOUND, "no root zone is published yet: an operator imports one with steward import rootzone"))
		return
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Steward-Serial", strconv.FormatUint(uint64(p.Serial), 10))
	h.Set("Steward-Ledger-Entry", strconv.FormatInt(p.Entry, 10))
	if cp, err := s.checkpoint(r); err == nil && cp.Size > p.Entry {
		h.Set("Steward-Checkpoint", strconv.FormatInt(cp.Size, 10)+" "+cp.Root)
	}
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", `"`+strconv.FormatUint(uint64(p.Serial), 10)+"-"+name+`"`)
	_, _ = w.Write(p.Files[name])
}
