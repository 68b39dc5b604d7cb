package steward

import "context"

// The seeded issue catalogue: the WGIG's four clusters of public policy
// issues (Report para 13), its thirteen issues of highest priority (paras
// 15–27) and the twelve items a–l of the IGF mandate (Tunis Agenda
// para 72). Texts follow the sources cited on each entry; see
// docs/forum.md for how the institutions were chosen.

const (
	srcClusters = "https://www.itu.int/net/wsis/docs2/pc3/html/off5/index4.html"
	srcIssues5  = "https://www.itu.int/net/wsis/docs2/pc3/html/off5/index5.html"
	srcIssues6  = "https://www.itu.int/net/wsis/docs2/pc3/html/off5/index6.html"
	srcTunis72  = "https://www.isoc.it/quaderni/igf_2007/agenda_tunisi.html"
)

var rirs = "Regional Internet Registries (AFRINIC, APNIC, ARIN, LACNIC, RIPE NCC)"

// SeedIssues is the catalogue steward init adds to every new instance.
var SeedIssues = []Issue{
	// The four clusters, WGIG Report para 13.
	{ID: "cluster-a", Kind: IssueCluster, Cluster: "a", Title: "Infrastructure and management of critical Internet resources",
		Summary: "Administration of the domain name system and IP addresses, administration of the root server system, technical standards, peering and interconnection, telecommunications infrastructure including innovative and convergent technologies, and multilingualization. Issues of direct relevance to Internet governance that fall within the purview of existing organizations.",
		Source:  "WGIG Report, para 13(a)", SourceURL: srcClusters,
		Institutions: []string{"ICANN", "IANA functions operator", "Root server operators", rirs, "IETF", "ITU"},
		Decisions:    []string{"tld.delegate", "tld.remove", "root.architecture", "number.policy", "parameter.register"}},
	{ID: "cluster-b", Kind: IssueCluster, Cluster: "b", Title: "Issues relating to the use of the Internet",
		Summary: "Spam, network security and cybercrime: issues directly related to Internet governance, where the nature of the global cooperation required is not well defined.",
		Source:  "WGIG Report, para 13(b)", SourceURL: srcClusters,
		Institutions: []string{"OECD", "Council of Europe", "ITU", "Computer emergency response teams (FIRST)"}},
	{ID: "cluster-c", Kind: IssueCluster, Cluster: "c", Title: "Issues relevant to the Internet but with an impact much wider than the Internet",
		Summary: "Intellectual property rights and international trade: issues for which existing organizations are responsible. The WGIG examined whether they are being handled consistently with the Declaration of Principles.",
		Source:  "WGIG Report, para 13(c)", SourceURL: srcClusters,
		Institutions: []string{"WIPO", "WTO"}},
	{ID: "cluster-d", Kind: IssueCluster, Cluster: "d", Title: "Developmental aspects of Internet governance",
		Summary: "In particular capacity-building in developing countries.",
		Source:  "WGIG Report, para 13(d)", SourceURL: srcClusters,
		Institutions: []string{"UNDP", "ITU Development Sector (ITU-D)", "UNESCO", "World Bank"}},

	// The thirteen issues of highest priority, WGIG Report paras 15–27.
	{ID: "root-zone", Kind: IssuePriority, Cluster: "a", Title: "Administration of the root zone files and system",
		Summary: "Unilateral control by the United States Government; lack of a formal relationship with root server operators.",
		Source:  "WGIG Report, para 15", SourceURL: srcIssues5,
		Institutions: []string{"ICANN", "IANA functions operator", "Root server operators", "United States Department of Commerce (NTIA), in 2005"},
		Decisions:    []string{"tld.delegate", "tld.remove", "tld.update-ns", "root.architecture"}, Related: []string{"cluster-a", "mandate-j"}},
	{ID: "interconnection-costs", Kind: IssuePriority, Cluster: "a", Title: "Interconnection costs",
		Summary: "Uneven distribution of international Internet connectivity costs: Internet service providers in countries far from the backbones pay the full cost of the international circuits.",
		Source:  "WGIG Report, para 16", SourceURL: srcIssues5,
		Institutions: []string{"ITU Telecommunication Standardization Sector (ITU-T)", "WTO", "Internet exchange point associations"},
		Related:      []string{"cluster-a", "mandate-e"}},
	{ID: "security-cybercrime", Kind: IssuePriority, Cluster: "b", Title: "Internet stability, security and cybercrime",
		Summary: "Among other points, a lack of efficient tools and mechanisms for countries to prevent and prosecute crimes committed in other jurisdictions.",
		Source:  "WGIG Report, para 17", SourceURL: srcIssues5,
		Institutions: []string{"Council of Europe (Budapest Convention)", "Computer emergency response teams (FIRST)", "ITU", "UNODC"},
		Related:      []string{"cluster-b", "mandate-a", "mandate-k"}},
	{ID: "spam", Kind: IssuePriority, Cluster: "b", Title: "Spam",
		Summary: "No unified, coordinated approach: no global consensus on a definition of spam and no global arrangement to fight it, although bilateral and plurilateral enforcement agreements are increasing.",
		Source:  "WGIG Report, para 18", SourceURL: srcIssues5,
		Institutions: []string{"OECD", "ITU", "IETF", "National enforcement agencies"},
		Related:      []string{"cluster-b", "mandate-k"}},
	{ID: "meaningful-participation", Kind: IssuePriority, Title: "Meaningful participation in global policy development",
		Summary: "Significant barriers to multi-stakeholder participation: a lack of transparency, openness and participatory processes; participation in intergovernmental organizations that is limited and expensive, especially for developing countries, indigenous peoples, civil society organizations and small and medium-sized enterprises; content of intergovernmental organizations open only to members or expensive; meetings whose frequency and location restrict participation from remote areas; no global mechanism for governments, especially from developing countries, on multisectoral issues.",
		Source:  "WGIG Report, para 19", SourceURL: srcIssues5,
		Institutions: []string{"This forum", "ICANN Governmental Advisory Committee", "ITU"},
		Related:      []string{"mandate-f", "mandate-i"}},
	{ID: "capacity-building", Kind: IssuePriority, Cluster: "d", Title: "Capacity-building",
		Summary: "Adequate resources have not been available to build capacity at the national level and to ensure effective participation in global Internet governance, particularly for developing countries.",
		Source:  "WGIG Report, para 20", SourceURL: srcIssues5,
		Institutions: []string{"UNDP", "ITU Development Sector (ITU-D)", "Internet Society", rirs},
		Related:      []string{"cluster-d", "mandate-h"}},
	{ID: "domain-names", Kind: IssuePriority, Cluster: "a", Title: "Allocation of domain names",
		Summary: "Policies and procedures for generic top-level domains, and related concerns such as the redelegation of country-code top-level domains.",
		Source:  "WGIG Report, para 21", SourceURL: srcIssues6,
		Institutions: []string{"ICANN (GNSO, ccNSO, Governmental Advisory Committee)", "Country-code TLD managers", "WIPO (domain name dispute resolution)"},
		Decisions:    []string{"tld.delegate", "tld.transfer", "gtld.introduce"}, Related: []string{"cluster-a", "mandate-j"}},
	{ID: "ip-addressing", Kind: IssuePriority, Cluster: "a", Title: "IP addressing",
		Summary: "Equitable distribution of resources: allocation policies for IP addresses should ensure balanced access to resources on a geographical basis (IPv4 scarcity, the deployment of IPv6).",
		Source:  "WGIG Report, para 22", SourceURL: srcIssues6,
		Institutions: []string{"IANA functions operator", rirs, "Number Resource Organization (ASO)"},
		Decisions:    []string{"number.allocate", "number.policy"}, Related: []string{"cluster-a", "mandate-j"}},
	{ID: "intellectual-property", Kind: IssuePriority, Cluster: "c", Title: "Intellectual property rights",
		Summary: "Application of intellectual property rights to cyberspace: the balance between the rights of holders and the rights of users is disputed, with piracy and circumvention on one side and oligopolies and impediments to access on the other.",
		Source:  "WGIG Report, para 23", SourceURL: srcIssues6,
		Institutions: []string{"WIPO", "WTO (TRIPS Agreement)"},
		Related:      []string{"cluster-c"}},
	{ID: "freedom-of-expression", Kind: IssuePriority, Title: "Freedom of expression",
		Summary: "Restrictions on freedom of expression: measures taken for security or to fight crime can violate the provisions on freedom of expression of the Universal Declaration of Human Rights and of the WSIS Declaration of Principles.",
		Source:  "WGIG Report, para 24", SourceURL: srcIssues6,
		Institutions: []string{"UN Human Rights Council (OHCHR)", "UNESCO", "Council of Europe"},
		Related:      []string{"mandate-i", "mandate-k"}},
	{ID: "data-protection", Kind: IssuePriority, Title: "Data protection and privacy rights",
		Summary: "Lack of existence or inconsistent application of privacy and data-protection rights, for example the apparent lack of personal data protection in some of the WHOIS databases.",
		Source:  "WGIG Report, para 25", SourceURL: srcIssues6,
		Institutions: []string{"OECD", "Council of Europe (Convention 108)", "National data protection authorities", "ICANN (registration data)"},
		Decisions:    []string{"tld.update-contacts"}, Related: []string{"mandate-k"}},
	{ID: "consumer-rights", Kind: IssuePriority, Title: "Consumer rights",
		Summary: "Lack of global standards for consumer rights over the Internet, for example in the international purchase of goods online.",
		Source:  "WGIG Report, para 26", SourceURL: srcIssues6,
		Institutions: []string{"OECD Committee on Consumer Policy", "UNCTAD", "International Consumer Protection and Enforcement Network"},
		Related:      []string{"cluster-c", "mandate-k"}},
	{ID: "multilingualism", Kind: IssuePriority, Cluster: "a", Title: "Multilingualism",
		Summary: "Insufficient progress on multilingualism: internationalized domain names, e-mail addresses, keyword look-up and local content.",
		Source:  "WGIG Report, para 27", SourceURL: srcIssues6,
		Institutions: []string{"IETF (IDNA)", "Unicode Consortium", "ICANN (IDN TLDs)", "UNESCO", "ITU"},
		Decisions:    []string{"tld.delegate", "parameter.register"}, Related: []string{"cluster-a"}},
}

// mandate is Tunis Agenda para 72, items a to l.
var mandate = []struct{ item, title, text string }{
	{"a", "Discuss public policy issues of Internet governance", "Discuss public policy issues related to key elements of Internet governance in order to foster the sustainability, robustness, security, stability and development of the Internet."},
	{"b", "Facilitate discourse between bodies; issues no body covers", "Facilitate discourse between bodies dealing with different cross-cutting international public policies regarding the Internet and discuss issues that do not fall within the scope of any existing body."},
	{"c", "Interface with intergovernmental organizations and other institutions", "Interface with appropriate intergovernmental organizations and other institutions on matters under their purview."},
	{"d", "Exchange of information and best practices", "Facilitate the exchange of information and best practices, and in this regard make full use of the expertise of the academic, scientific and technical communities."},
	{"e", "Availability and affordability of the Internet in the developing world", "Advise all stakeholders in proposing ways and means to accelerate the availability and affordability of the Internet in the developing world."},
	{"f", "Engagement of stakeholders, particularly from developing countries", "Strengthen and enhance the engagement of stakeholders in existing and/or future Internet governance mechanisms, particularly those from developing countries."},
	{"g", "Identify emerging issues and make recommendations", "Identify emerging issues, bring them to the attention of the relevant bodies and the general public, and, where appropriate, make recommendations."},
	{"h", "Capacity building for Internet governance in developing countries", "Contribute to capacity building for Internet governance in developing countries, drawing fully on local sources of knowledge and expertise."},
	{"i", "Embodiment of WSIS principles in Internet governance processes", "Promote and assess, on an ongoing basis, the embodiment of WSIS principles in Internet governance processes."},
	{"j", "Critical Internet resources", "Discuss, inter alia, issues relating to critical Internet resources."},
	{"k", "Use and misuse of the Internet: issues of concern to everyday users", "Help to find solutions to the issues arising from the use and misuse of the Internet, of particular concern to everyday users."},
	{"l", "Publish its proceedings", "Publish its proceedings."},
}

var mandateInstitutions = map[string][]string{
	"b": {"Every body of this charter", "Intergovernmental organizations"},
	"c": {"Intergovernmental organizations (ITU, WIPO, WTO, UNESCO, OECD)"},
	"d": {"IETF", "Internet Society", rirs, "Academic and research networks"},
	"e": {"ITU Development Sector (ITU-D)", "UNDP", "World Bank"},
	"h": {"UNDP", "ITU Development Sector (ITU-D)", "Internet Society"},
	"j": {"ICANN", "IANA functions operator", rirs, "Root server operators"},
}

var mandateRelated = map[string][]string{
	"a": {"security-cybercrime"},
	"e": {"interconnection-costs", "cluster-d"},
	"f": {"meaningful-participation"},
	"h": {"capacity-building", "cluster-d"},
	"i": {"meaningful-participation", "freedom-of-expression"},
	"j": {"cluster-a", "root-zone", "domain-names", "ip-addressing"},
	"k": {"cluster-b", "spam", "consumer-rights"},
}

func init() {
	for _, m := range mandate {
		SeedIssues = append(SeedIssues, Issue{ID: "mandate-" + m.item, Kind: IssueMandate,
			Title: "IGF mandate (" + m.item + "): " + m.title, Summary: m.text,
			Source: "Tunis Agenda, para 72(" + m.item + ")", SourceURL: srcTunis72,
			Institutions: mandateInstitutions[m.item], Related: mandateRelated[m.item]})
	}
}

// SeedForum returns the command that adds the seeded catalogue to an
// instance's forum: one forum.issue-added event per issue, by the init
// actor. Issues present already are left alone, so it may run again.
func SeedForum() Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		n := 0
		for _, is := range SeedIssues {
			if _, err := tx.Get(ctx, issueKey(is.ID)); err == nil {
				continue
			}
			if _, err := ProposeIssue(ActorInit, is)(ctx, tx); err != nil {
				return nil, err
			}
			n++
		}
		return n, nil
	}
}
