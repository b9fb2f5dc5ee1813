// Composition root: the only place that wires concrete pieces (DESIGN.md, layers).
// Command line: ticketline [CARD_DIR] | ticketline check [CARD_DIR]
console.log('ticketline: not wired yet');
process.exitCode = 2;
