// Package charter reads, validates and evaluates the charter of a governed
// Internet instance: its written, multistakeholder rules.
//
// A charter names the stakeholder groups and regions of an instance, the
// bodies that decide or advise (with their seats per group and region and
// their decision rule), the time windows of every decision, which decision
// kinds need which bodies, where appeals go, how community petitions work
// and how the charter itself is amended. It is a human-readable YAML file;
// the format is specified in docs/charter.md.
//
// # Sources
//
// The vocabulary follows the UN Working Group on Internet Governance report
// (WGIG, June 2005): its stakeholder groups and their roles (paras 29–34),
// the forum it proposed (paras 35–46) and its four oversight models
// (paras 47–73). The six presets ([PresetNames]) encode those four models,
// the post-2016 IANA stewardship structure (ICANN Bylaws Art. 6, 17, 18, 19
// and Annex D, the RZERC charter, the Root Zone Maintainer Agreement) and
// the way community networks and alternative roots govern themselves.
//
// # Parsing
//
// [Parse] decodes a file into yaml.Node trees rather than directly into Go
// structs, so that every problem is reported with the line it is on and the
// path of the field, for example
//
//	wgig-model-1.yaml:42: bodies[1].seats[0].group: unknown stakeholder group "goverment"
//
// Parse reports every problem it finds, not only the first, as an
// [ErrorList]. Unknown fields, duplicate identifiers and references that do
// not resolve are errors: a typo never becomes a silent default.
//
// # Decisions
//
// [Rule.Evaluate] applies a body's decision rule (majority, supermajority,
// consensus, unanimity or majority in every stakeholder group, each with an
// optional quorum and regional balance) to a set of ballots. It is a pure
// function: the same ballots always give the same outcome, with a sentence
// explaining each test.
//
// # Concurrency
//
// A parsed [Charter] is never modified by this package; it is safe for
// concurrent use as long as callers do not modify it either.
package charter
