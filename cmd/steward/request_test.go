package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"steward"
	"steward/dnssec"
	"steward/internal/testdata"
	"steward/internal/testproc"
)

// labCharter is a small charter for a lab instance: a council of two
// voting seats approves delegations and DS changes at once (no comment or
// objection period); loopback name servers are allowed.
const labCharter = `charter: 1
name: Lab Charter
regions: [africa, europe]
stakeholder_groups:
  - {id: government, name: Governments}
  - {id: civil-society, name: Civil society}
bodies:
  - id: council
    name: Council
    kind: council
    seats:
      - {group: government, region: africa, count: 1}
      - {group: government, region: any, count: 1}
    rule: {kind: majority, quorum: "1/2"}
  - id: ops
    name: Operations
    kind: operator
    seats:
      - {group: civil-society, region: any, count: 2}
  - id: forum
    name: Forum
    kind: forum
    open: true
    seats:
      - {group: government, region: any, capacity: advisory}
      - {group: civil-society, region: any, capacity: advisory}
windows: {comment: 0s, objection: 0s, vote: 1h, advice_answer: 1h}
decisions:
  - kind: tld.delegate
    approval: [council]
    checks: {advisory: [ADDRESS, CONNECTIVITY, CONSISTENCY, NAMESERVER]}
  - kind: tld.update-ds
    approval: [council]
    checks: {advisory: [ADDRESS, CONNECTIVITY, CONSISTENCY, NAMESERVER]}
amendment:
  proposers: [any-participant]
  approval: [council]
roles:
  moderators: ops
  operator: ops
forum: {body: forum}
requests: {allow_loopback: true}
`

// api calls the JSON API and decodes the answer into out (if not nil); it
// returns the status.
func api(t testing.TB, method, u, bearer string, in, out any) int {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, u, err, b)
		}
	}
	if resp.StatusCode >= 300 && out != nil {
		t.Logf("%s %s: %s %s", method, u, resp.Status, b)
	}
	return resp.StatusCode
}

// tokenFor logs a demo participant in through the API and returns a token
// with the given scopes.
func tokenFor(t testing.TB, base, handle string, scopes ...string) string {
	t.Helper()
	var tok struct {
		Bearer string `json:"bearer"`
	}
	if st := api(t, "POST", base+"/api/v1/tokens", "", map[string]any{"handle": handle, "password": "demo-password", "name": "test", "scopes": scopes, "ttl_days": 1}, &tok); st != http.StatusCreated {
		t.Fatalf("token for %s: %d", handle, st)
	}
	return tok.Bearer
}

// waitRequest polls a request until ok, failing after timeout.
func waitRequest(t testing.TB, base string, id int64, timeout time.Duration, ok func(*steward.Request) bool) *steward.Request {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var r steward.Request
		api(t, "GET", fmt.Sprintf("%s/api/v1/requests/%d", base, id), "", nil, &r)
		if ok(&r) {
			return &r
		}
		if time.Now().After(deadline) {
			b, _ := json.MarshalIndent(r, "", " ")
			t.Fatalf("request %d did not get there in %s:\n%s", id, timeout, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// labChild signs a child zone served by ns1 (127.0.0.2) and ns2
// (127.0.0.3) and returns its text and its KSK's DS.
func labChild(t testing.TB, zone string) (string, steward.DS, *dns.DNSKEY) {
	t.Helper()
	ksk, err := dnssec.GenerateKey(zone, dns.ECDSAP256SHA256, true)
	if err != nil {
		t.Fatal(err)
	}
	zsk, err := dnssec.GenerateKey(zone, dns.ECDSAP256SHA256, false)
	if err != nil {
		t.Fatal(err)
	}
	var rrs []dns.RR
	for _, l := range []string{
		zone + " 3600 IN SOA ns1." + zone + " hostmaster." + zone + " 1 3600 900 604800 300",
		zone + " 3600 IN NS ns1." + zone, zone + " 3600 IN NS ns2." + zone,
		"ns1." + zone + " 3600 IN A 127.0.0.2", "ns2." + zone + " 3600 IN A 127.0.0.3",
		"www." + zone + " 3600 IN A 192.0.2.80",
	} {
		rr, err := dns.NewRR(l)
		if err != nil {
			t.Fatal(err)
		}
		rrs = append(rrs, rr)
	}
	z, err := dnssec.Sign(zone, rrs, dnssec.SigningKeys{KSKs: []*dnssec.Key{ksk}, ZSKs: []*dnssec.Key{zsk}}, dnssec.DefaultPolicy, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, rr := range z.Records() {
		b.WriteString(rr.String() + "\n")
	}
	d := ksk.DNSKEY.ToDS(dns.SHA256)
	return b.String(), steward.DS{KeyTag: d.KeyTag, Algorithm: d.Algorithm, DigestType: d.DigestType, Digest: strings.ToUpper(d.Digest)}, ksk.DNSKEY
}

// TestRequestEndToEnd takes a new TLD from submission to the DNS: the
// checks run against real NSD servers, the contact confirms through the
// link e-mailed to a local SMTP sink, the council votes over the API, the
// registry implements it, the zone is re-signed and served with the new
// delegation, and the request page names the serial. A DS change that
// matches no key of the child is held by the DNSSEC check and changes
// nothing.
// lab is a running lab instance: steward serving the real root zone over
// HTTP and DNS, checking against NSD servers of the child zone lab.
// (127.0.0.2 and 127.0.0.3), mailing to a sink.
type lab struct {
	srv    *served
	base   string
	sink   *testproc.SMTPSink
	voters []string // the council's voting members
	op     string   // a write token of the operator, the requester
	child  string   // the child zone's text
	ds     steward.DS
	ksk    *dns.DNSKEY
}

func startLab(t testing.TB) *lab {
	t.Helper()
	nsd := testproc.Need(t, "nsd")
	if _, err := os.Stat(testdata.RootZoneFile); err != nil {
		testdata.Missing(t, err)
	}
	dir := filepath.Join(t.TempDir(), "lab")
	file := filepath.Join(t.TempDir(), "lab.yaml")
	if err := os.WriteFile(file, []byte(labCharter), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "init", "--demo", "--charter", file, "--origin", "steward.example/lab", dir)
	mustRun(t, "import", "rootzone", "--data", dir, testdata.RootZoneFile)

	l := &lab{}
	l.child, l.ds, l.ksk = labChild(t, "lab.")
	port := testproc.FreePort(t)
	testproc.StartNSD(t, nsd, port, []string{"127.0.0.2", "127.0.0.3"}, map[string]string{"lab.": l.child}, "")
	l.sink = testproc.NewSMTPSink(t)

	l.srv = serveInProcess(t, "--data", dir, "--http", "127.0.0.1:0", "--dns", "127.0.0.1:0",
		"--check-port", fmt.Sprint(port), "--smtp", l.sink.Addr, "--smtp-from", "registry@steward.example")
	l.base = "http://" + l.srv.HTTP

	var council struct {
		Members []steward.Member `json:"members"`
	}
	api(t, "GET", l.base+"/api/v1/bodies/council", "", nil, &council)
	for _, m := range council.Members {
		if m.Capacity == "voting" {
			l.voters = append(l.voters, m.Participant)
		}
	}
	if len(l.voters) != 2 {
		t.Fatalf("council voters %v", l.voters)
	}
	l.op = tokenFor(t, l.base, "operator", "write")
	return l
}

func TestRequestEndToEnd(t *testing.T) {
	l := startLab(t)
	srv, base, sink, voters, op, ds := l.srv, l.base, l.sink, l.voters, l.op, l.ds
	var r steward.Request
	st := api(t, "POST", base+"/api/v1/requests", op, steward.RequestInput{Kind: "tld.delegate", TLD: "lab", Reason: "a lab TLD",
		Change: steward.Change{NS: []string{"ns1.lab.", "ns2.lab."}, Glue: []steward.Glue{{Name: "ns1.lab.", Addrs: []string{"127.0.0.2"}}, {Name: "ns2.lab.", Addrs: []string{"127.0.0.3"}}},
			DS: []steward.DS{ds}, Manager: "Lab Network", Contacts: []string{"operator"}}}, &r)
	if st != http.StatusCreated {
		t.Fatalf("submit: %d", st)
	}

	// The checks run against NSD; the contact is e-mailed a link.
	got := waitRequest(t, base, r.ID, 30*time.Second, func(r *steward.Request) bool { return r.State == steward.StateConfirmation || r.Hold != "" })
	if got.State != steward.StateConfirmation || len(got.Checks) != 1 || !got.Checks[0].Passed {
		b, _ := json.MarshalIndent(got.Checks, "", " ")
		t.Fatalf("after the checks: %s %q\n%s", got.State, got.Hold, b)
	}
	m := sink.Wait(t, 10*time.Second, func(m testproc.Mail) bool { return strings.Contains(m.Msg.Header.Get("Subject"), "confirm") })
	if m.To[0] != "operator@localhost" {
		t.Errorf("confirmation mailed to %v", m.To)
	}
	link := regexp.MustCompile(`http://\S+/confirm\?\S+`).FindString(m.Body)
	if link == "" {
		t.Fatalf("no link in:\n%s", m.Body)
	}
	// A tampered link is refused.
	if resp, err := http.Get(strings.Replace(link, "contact=operator", "contact=someone", 1)); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.StatusCode != http.StatusForbidden {
		t.Errorf("tampered link: %s", resp.Status)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	resp, err := browser.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	linkQuery := regexp.MustCompile(`name="link" value="([^"]+)"`).FindSubmatch(page)
	if resp.StatusCode != http.StatusOK || csrf == nil || linkQuery == nil {
		t.Fatalf("confirmation page %s:\n%s", resp.Status, page)
	}
	form := url.Values{"csrf": {string(csrf[1])}, "link": {strings.ReplaceAll(string(linkQuery[1]), "&amp;", "&")}}
	resp, err = browser.PostForm(fmt.Sprintf("%s/requests/%d/confirm-link", base, r.ID), form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got = waitRequest(t, base, r.ID, 10*time.Second, func(r *steward.Request) bool { return r.State == steward.StateReview })
	if got.Confirms[0].Via != "email" {
		t.Errorf("confirmation %+v", got.Confirms)
	}

	// The council votes; the request is implemented and published.
	for _, v := range voters {
		tok := tokenFor(t, base, v, "vote")
		if st := api(t, "POST", fmt.Sprintf("%s/api/v1/requests/%d/vote", base, r.ID), tok, map[string]string{"body": "council", "vote": "yes"}, &r); st != http.StatusOK {
			t.Fatalf("vote of %s: %d", v, st)
		}
		// A second vote is refused.
		if st := api(t, "POST", fmt.Sprintf("%s/api/v1/requests/%d/vote", base, r.ID), tok, map[string]string{"body": "council", "vote": "no"}, nil); st != http.StatusConflict {
			t.Errorf("second vote: %d", st)
		}
	}
	got = waitRequest(t, base, r.ID, 30*time.Second, func(r *steward.Request) bool { return r.Final })
	if got.State != steward.StatePublished || got.Serial == 0 || len(got.Checks) != 2 {
		t.Fatalf("final state %s serial %d checks %d (%s)", got.State, got.Serial, len(got.Checks), got.Hold)
	}
	// Steward's DNS server refers to the new TLD's servers, with its DS.
	deadline := time.Now().Add(10 * time.Second)
	for {
		q := new(dns.Msg)
		q.SetQuestion("www.lab.", dns.TypeA)
		q.SetEdns0(1232, true)
		resp, _, err := new(dns.Client).Exchange(q, srv.DNS)
		if err == nil && len(resp.Ns) > 0 {
			var nsSeen, dsSeen bool
			for _, rr := range resp.Ns {
				nsSeen = nsSeen || rr.Header().Rrtype == dns.TypeNS && rr.(*dns.NS).Ns == "ns1.lab."
				dsSeen = dsSeen || rr.Header().Rrtype == dns.TypeDS && rr.(*dns.DS).KeyTag == ds.KeyTag
			}
			if nsSeen && dsSeen {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("steward does not refer www.lab.: %v %v", resp, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, err = http.Get(fmt.Sprintf("%s/requests/%d", base, r.ID))
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(page, []byte(fmt.Sprintf("zone serial <strong>%d</strong>", got.Serial))) {
		t.Errorf("the request page does not show serial %d", got.Serial)
	}
	feed, err := http.Get(base + "/requests/feed.atom?tld=lab")
	if err != nil {
		t.Fatal(err)
	}
	fb, _ := io.ReadAll(feed.Body)
	feed.Body.Close()
	if feed.Header.Get("Content-Type") != "application/atom+xml; charset=utf-8" || !bytes.Contains(fb, []byte("published")) {
		t.Errorf("feed %s:\n%s", feed.Header.Get("Content-Type"), fb)
	}
	sink.Wait(t, 10*time.Second, func(m testproc.Mail) bool { return strings.Contains(m.Msg.Header.Get("Subject"), "is published") })

	// A DS that matches no key of the child: the DNSSEC check holds it.
	bad := ds
	bad.KeyTag++
	if st := api(t, "POST", base+"/api/v1/requests", op, steward.RequestInput{Kind: "tld.update-ds", TLD: "lab", Change: steward.Change{DS: []steward.DS{bad}}}, &r); st != http.StatusCreated {
		t.Fatalf("submit DS change: %d", st)
	}
	got = waitRequest(t, base, r.ID, 30*time.Second, func(r *steward.Request) bool { return r.Hold != "" })
	if got.State != steward.StateChecks || !strings.Contains(strings.Join(got.Checks[0].Blocking, " "), "DNSSEC") {
		t.Errorf("bad DS: %s, blocking %v", got.State, got.Checks[0].Blocking)
	}
	var tld steward.TLD
	api(t, "GET", base+"/api/v1/tlds/lab", "", nil, &tld)
	if len(tld.DS) != 1 || tld.DS[0].KeyTag != ds.KeyTag {
		t.Errorf("a held request changed the registry: %+v", tld.DS)
	}
	// Someone who is not a contact may not ask for changes.
	other := tokenFor(t, base, voters[0], "write")
	if st := api(t, "POST", base+"/api/v1/requests", other, steward.RequestInput{Kind: "tld.remove", TLD: "lab"}, nil); st != http.StatusForbidden {
		t.Errorf("a non-contact's request: %d", st)
	}
}
