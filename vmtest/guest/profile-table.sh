# shellcheck shell=sh
# profile_table OFF ON JOBS: two dumps of ftrace's function profiler
# (trace_stat/function*, every CPU), of JOBS jobs with fences off and on,
# as one markdown table: per function, calls and microseconds per job
# both ways and what fences add, the largest addition first.
profile_table() {
	echo "| function | calls per job, off | on | us per job, off | on | added |"
	echo "|---|---|---|---|---|---|"
	awk -v jobs="$3" '
		FNR == 1 { mode++ }
		$1 != "Function" && $1 !~ /^-/ && NF >= 4 {
			t = $3; u = $4
			us = u == "us" ? t : u == "ms" ? t * 1000 : u == "ns" ? t / 1000 : t
			f[$1] = 1; hit[mode, $1] += $2; time[mode, $1] += us
		}
		END {
			for (n in f)
				printf "| `%s` | %.2f | %.2f | %.2f | %.2f | %+.2f |\n", n,
					hit[1, n] / jobs, hit[2, n] / jobs,
					time[1, n] / jobs, time[2, n] / jobs,
					(time[2, n] - time[1, n]) / jobs
		}' "$1" "$2" | sort -t'|' -k7,7 -g -r
}
