package steward

// CanonicalBlockJSON is canonicalBlock, for the test that checks it.
var CanonicalBlockJSON = canonicalBlock

// AppendBlockLine and ParseBlockLine are the block line codec, for its
// fuzz test.
var (
	AppendBlockLine = appendBlockLine
	ParseBlockLine  = parseBlockLine
)

// The byte-by-byte patterns of block fields, for the test that checks them
// against their regular expressions.
var (
	RegistryRE = registryRE
	HolderRE   = holderRE
	CountryRE  = countryRE
	DateRE     = dateRE
)
