package steward

// CanonicalBlockJSON is canonicalBlock, for the test that checks it.
var CanonicalBlockJSON = canonicalBlock
