package steward

// CanonicalBlockJSON is canonicalBlock, for the test that checks it.
var CanonicalBlockJSON = canonicalBlock

// AppendBlockLine and ParseBlockLine are the block line codec, for its
// fuzz test.
var (
	AppendBlockLine = appendBlockLine
	ParseBlockLine  = parseBlockLine
)
