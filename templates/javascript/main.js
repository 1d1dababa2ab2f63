const readline = require("readline");

const lines = readline.createInterface({ input: process.stdin });
let count = 0;
console.log("Type some lines; end with Ctrl+D.");
lines.on("line", (line) => {
  count += 1;
  console.log([...line].reverse().join(""));
});
lines.on("close", () => console.log(`${count} line(s) reversed.`));
