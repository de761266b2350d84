import { classNamed, runClass, scenarioOf } from './classes.js';
const [name, from, to] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4])];
const klass = classNamed(name);
let bad = 0;
for (let seed = from; seed < to; seed++) {
  try {
    const r = await runClass(klass, scenarioOf(klass, seed));
    if (r.violations.length > 0) { bad++; if (process.env.SHOW) console.log(seed, r.violations.map((v) => `${v.kind}: ${v.detail}`).join('\n   ')); }
  } catch (e) { console.log('ERROR seed', seed, String(e)); }
}
console.log(`${name}: ${bad}/${to - from} violating`);
