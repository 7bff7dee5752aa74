// Prints vitest's JSON results as one plain closing line: "N passed, N failed, N skipped".
const results = require(process.argv[2]);
const passed = results.numPassedTests;
const failed = results.numFailedTests;
const skipped = results.numPendingTests + results.numTodoTests;
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
