// Package checks runs the technical checks of a DNS delegation before a
// registry publishes it: that the name servers a change request names
// answer, agree with each other and with the delegation, and that the DS
// set leads to the child's keys.
//
// The checks are named after Zonemaster's test cases
// (https://doc.zonemaster.net, "Test Case Specifications"): modules BASIC,
// ADDRESS, CONNECTIVITY, CONSISTENCY, DELEGATION, DNSSEC and NAMESERVER,
// cases such as CONNECTIVITY01 or DNSSEC02, and within a case the message
// tags Zonemaster uses (REFERRAL_SIZE_TOO_LARGE, DS02_NO_MATCH_DS_DNSKEY…).
// [Catalog] lists the cases run and says where steward's check departs
// from the specification. One rule shapes those departures: a defect is
// reported by the case it breaks, not again by every case it disturbs. A
// server that does not answer is CONNECTIVITY's finding; the other cases judge only the answers that came
// back, and only authoritative ones where they judge zone data. So a
// charter can say, case by case, which failures block a change and which
// are advisory.
//
// # Running
//
// [Run] takes a [Delegation] (the zone, its name servers with their
// addresses, its DS set) and [Options], sends its queries concurrently
// (github.com/miekg/dns does the wire format and the DNSSEC arithmetic),
// and returns a [Report]: a list of [Result]s, each with a level (OK, INFO,
// NOTICE, WARNING, ERROR) and evidence in text — which server, at which
// address, over which transport, was asked what, and what came back.
// [Report.Failed] returns the results at WARNING or ERROR.
//
// Every name server address is first judged against IANA's special-purpose
// address registries (RFC 6890). Addresses that are not globally reachable
// fail ADDRESS01 and are never queried, so a request cannot make the
// registry probe a private network; [Options.AllowLoopback] and
// [Options.AllowPrivate] admit loopback and private-use space for lab
// instances.
//
// Run never panics on what a server sends, and is safe for concurrent use.
// Its analysis of the answers is a pure function of them, fuzzed with
// arbitrary messages in fuzz_test.go.
package checks
