// Parses every .jl file under bindings/julia (or the paths given) with tree-sitter-julia and
// exits 1 if any has a syntax error (an ERROR or MISSING node), naming file, line and column.
const fs = require("fs");
const path = require("path");
const Parser = require("tree-sitter");
const Julia = require("tree-sitter-julia");

const root = path.resolve(__dirname, "..", "..");
const targets = process.argv.length > 2 ? process.argv.slice(2)
  : [path.join(root, "bindings", "julia")];

function walk(p, out) {
  const st = fs.statSync(p);
  if (st.isDirectory()) {
    for (const e of fs.readdirSync(p).sort()) walk(path.join(p, e), out);
  } else if (p.endsWith(".jl")) {
    out.push(p);
  }
  return out;
}

const parser = new Parser();
parser.setLanguage(Julia);
let bad = 0;
let files = 0;
for (const t of targets) {
  for (const f of walk(t, [])) {
    files += 1;
    const src = fs.readFileSync(f, "utf8");
    const tree = parser.parse(src, null, { bufferSize: Math.max(65536, src.length * 2) });
    const errors = [];
    const visit = (n) => {
      if (n.type === "ERROR" || n.isMissing) {
        errors.push(n);
        return;
      }
      if (!n.hasError) return;
      for (let i = 0; i < n.childCount; i++) visit(n.child(i));
    };
    visit(tree.rootNode);
    if (tree.rootNode.hasError && errors.length === 0) errors.push(tree.rootNode);
    for (const n of errors.slice(0, 5)) {
      const p = n.startPosition;
      console.log(`${path.relative(root, f)}:${p.row + 1}:${p.column + 1}: syntax error ` +
        `(${n.isMissing ? "missing " + n.type : n.type}) near ` +
        JSON.stringify(src.slice(n.startIndex, Math.min(n.endIndex, n.startIndex + 60))));
    }
    if (errors.length) bad += 1;
  }
}
console.log(`${files} Julia files parsed, ${bad} with syntax errors`);
process.exit(bad === 0 && files > 0 ? 0 : 1);
