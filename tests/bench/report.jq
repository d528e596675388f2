# tests/bench/report.jq — the benchmark's table, from the JSON that run.sh
# writes: `jq -r -f report.jq sprout-bench.json` prints it again.
#
# Input: {"host": [records], "guest": [records], ...}; a record is
# {"case","tool","mean","stddev",...} (times in ms) or {"case":"rss",
# "tool","rss_kb"}.  Output: lines of text.

def rec($rs; $c; $t): [$rs[] | select(.case == $c and .tool == $t)] | last;
def mean($rs; $c; $t): rec($rs; $c; $t).mean;
def ms: if . == null then "-" elif . >= 1000 then "\(. / 1000 * 100 | round / 100) s"
	else "\(. * 10 | round / 10) ms" end;
def signed_ms: if . < 0 then "-" + (-. | ms) else "+" + ms end;
def x: if . == null then "-" else "\(. * 100 | round / 100)x" end;
def ratio($a; $b): if $a == null or $b == null or $b == 0 then null else $a / $b end;
def pad($n): tostring | . + (" " * ([$n - length, 0] | max));
def met($ok): if $ok == null then "-" elif $ok then "yes" else "NO" end;

# row: [case, what, sprout, peer columns..., ratios..., target, met]
def timerow($rs; $c; $what; $peers):
	(mean($rs; $c; "sprout")) as $s
	| [$c, $what, ($s | ms)]
	+ [$peers[] as $p | mean($rs; $c; $p) | ms]
	+ [$peers[] as $p | ratio($s; mean($rs; $c; $p)) | x];

def le($v; $lim): if $v == null then null else $v <= $lim end;
def all_of($l): if any($l[]; . == null) then null else all($l[]; .) end;

def host_rows($rs; $par):
	(mean($rs; "1"; "sprout")) as $s1
	| (mean($rs; "2"; "sprout")) as $s2
	| (mean($rs; "7"; "sprout")) as $s7
	# the pairs of cases 2 and 7 (sprout-base: case 1 in the same rounds),
	# else case 1 (results of older benchmarks)
	| (mean($rs; "2"; "sprout-base") // $s1) as $b2
	| (mean($rs; "7"; "sprout-base") // $s1) as $b7
	| [
	  (timerow($rs; "1"; "run /bin/true, default spec"; ["runc", "floor"])
	   + ["<=0.25x runc, <=1.5x floor",
	      met(all_of([le(ratio($s1; mean($rs; "1"; "runc")); 0.25),
	                  le(ratio($s1; mean($rs; "1"; "floor")); 1.5)]))]),
	  (timerow($rs; "2"; "run, seccomp + 14 caps"; ["runc", "floor"])
	   + ["<=0.3x runc, <=+1 ms over 1 (\(if $s2 and $b2 then ($s2 - $b2) | signed_ms else "-" end))",
	      met(all_of([le(ratio($s2; mean($rs; "2"; "runc")); 0.3),
	                  (if $s2 and $b2 then ($s2 - $b2) <= 1 else null end)]))]),
	  (timerow($rs; "3"; "create+start+delete (sum)"; ["runc", "floor"])
	   + ["<=0.3x runc", met(le(ratio(mean($rs; "3"; "sprout"); mean($rs; "3"; "runc")); 0.3))]),
	  (timerow($rs; "3.create"; "  create"; ["runc", "floor"]) + ["", ""]),
	  (timerow($rs; "3.start"; "  start"; ["runc", "floor"]) + ["", ""]),
	  (timerow($rs; "3.delete"; "  delete"; ["runc", "floor"]) + ["", ""]),
	  (timerow($rs; "4"; "exec /bin/true"; ["runc", "floor"])
	   + ["<=0.3x runc", met(le(ratio(mean($rs; "4"; "sprout"); mean($rs; "4"; "runc")); 0.3))]),
	  (timerow($rs; "5"; "\($par) containers, 2 workers"; ["runc", "floor"])
	   + ["throughput >=4x runc",
	      met(le(ratio(mean($rs; "5"; "sprout"); mean($rs; "5"; "runc")); 0.25))]),
	  (timerow($rs; "6.create.0"; "create, 0 present"; ["runc", "floor"]) + ["", ""]),
	  (timerow($rs; "6.create.N"; "create, N present"; ["runc", "floor"])
	   + ["<=1.2x create with 0 (\(ratio(mean($rs; "6.create.N"; "sprout"); mean($rs; "6.create.0"; "sprout")) | x); floor \(ratio(mean($rs; "6.create.N"; "floor"); mean($rs; "6.create.0"; "floor")) | x))",
	      met(le(ratio(mean($rs; "6.create.N"; "sprout"); mean($rs; "6.create.0"; "sprout")); 1.2))]),
	  (timerow($rs; "6.create.X"; "create, N live elsewhere"; ["runc", "floor"])
	   + ["no scan: N present <=1.2x this (\(ratio(mean($rs; "6.create.N"; "sprout"); mean($rs; "6.create.X"; "sprout")) | x))",
	      met(le(ratio(mean($rs; "6.create.N"; "sprout"); mean($rs; "6.create.X"; "sprout")); 1.2))]),
	  (timerow($rs; "6.list.0"; "list, 0 present"; ["runc", "floor"]) + ["", ""]),
	  (timerow($rs; "6.list.N"; "list, N present"; ["runc", "floor"])
	   + ["(lists all: \(ratio(mean($rs; "6.list.N"; "sprout"); mean($rs; "6.list.0"; "sprout")) | x) of 0)", "-"]),
	  (timerow($rs; "7"; "run --overlay"; ["runc", "floor"])
	   + ["<=1.2x case 1 (\(ratio($s7; $b7) | x))", met(le(ratio($s7; $b7); 1.2))])
	];

def guest_rows($rs):
	(mean($rs; "1"; "sprout")) as $s1
	| [
	  (timerow($rs; "1"; "run /bin/true, default spec"; ["crun", "runc", "floor"])
	   + ["<=0.7x crun", met(le(ratio($s1; mean($rs; "1"; "crun")); 0.7))]),
	  (timerow($rs; "2"; "run, seccomp + 14 caps"; ["crun", "runc", "floor"]) + ["", ""]),
	  (timerow($rs; "3"; "create+start+delete (sum)"; ["crun", "runc", "floor"]) + ["", ""]),
	  (timerow($rs; "4"; "exec /bin/true"; ["crun", "runc", "floor"]) + ["", ""])
	];

def rssrow($rs; $peers; $target):
	(rec($rs; "rss"; "sprout").rss_kb) as $s
	| ["rss", "peak RSS of run", (if $s then "\($s) KiB" else "-" end)]
	+ [$peers[] as $p | rec($rs; "rss"; $p).rss_kb | if . then "\(.) KiB" else "-" end]
	+ [$peers[] as $p | ratio($s; rec($rs; "rss"; $p).rss_kb) | x]
	+ (if $target then ["<=0.25x runc", met(le(ratio($s; rec($rs; "rss"; "runc").rss_kb); 0.25))]
	   else ["", ""] end);

# rows without a single measurement are left out
def measured($npeers): [.[2:3 + $npeers][] | select(. != "-")] | length > 0;

def table($head; $rows):
	($head | map(select(startswith("sprout/"))) | length) as $np
	| ([$head] + [$rows[] | select(measured($np))]) as $all
	| [range(0; $head | length) as $i | [$all[][$i] | tostring | length] | max] as $w
	| $all[] | [range(0; length) as $i | .[$i] | pad($w[$i])] | join("  ") | sub(" +$"; "");

(.host // []) as $h
| (.guest // []) as $g
| "sprout benchmark, \(.date // "")",
  "machine: \(.machine.description // "?")",
  "versions: \(.versions | to_entries | map(.value) | join(", "))",
  "runs per command: \(.settings.runs // "?"), warmup \(.settings.warmup // "?"), cases \((["1", "2"] + (if any(.host[]?; .case == "6.create.X" and .rounds) then ["6 (create N and X)"] else [] end) + (if any(.host[]?; .case == "7" and .tool == "sprout-base") then ["7"] else [] end)) | join(", ")) in \(.settings.rounds // 1) interleaved rounds; N = \(.settings.many // "?"); state roots on \(.settings.state_roots // "disk (/tmp)")",
  "",
  (if ($h | length) > 0 then
     "host (\(.machine.cgroups // "?") cgroups): mean time per command",
     table(["case", "what", "sprout", "runc", "floor", "sprout/runc", "sprout/floor", "target", "met"];
           host_rows($h; .settings.parallel // 100) + [rssrow($h; ["runc", "floor"]; true)])
   else "host: not run" end),
  (if ($g | length) > 0 then
     "",
     "cgroup-v2 guest (QEMU TCG, emulated: compare ratios, not times)",
     table(["case", "what", "sprout", "crun", "runc", "floor", "sprout/crun", "sprout/runc",
            "sprout/floor", "target", "met"];
           guest_rows($g) + [rssrow($g; ["crun", "runc", "floor"]; false)])
   else "", "cgroup-v2 guest: \(.guest_note // "not run")" end)
