# bash completion for damo (damo-sim): generated from the click application by `python -m damo.gen_docs`; do not edit.
# Load it with `source damo.bash`, or install it as
# ~/.local/share/bash-completion/completions/damo.

_damo_completion() {
    local cur prev cmdpath w i opts subs words files IFS=$'\n'
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev=""
    (( COMP_CWORD > 0 )) && prev="${COMP_WORDS[COMP_CWORD-1]}"
    cmdpath="damo"
    for (( i = 1; i < COMP_CWORD; i++ )); do
        w="${COMP_WORDS[i]}"
        case "$cmdpath $w" in
            "damo adjust"|"damo args"|"damo autotune"|"damo calibrate"|"damo convert_record_format"|"damo diagnose"|"damo features"|"damo help"|"damo lru_sort"|"damo module"|"damo monitor"|"damo reclaim"|"damo record"|"damo replay"|"damo report"|"damo schemes"|"damo setup_cli_completion"|"damo start"|"damo status"|"damo stop"|"damo sweep"|"damo tune"|"damo validate"|"damo version"|"damo args accesses_filter"|"damo args accesses_format"|"damo args damon"|"damo help access_filter_options"|"damo help access_format_options"|"damo help damon_param_options"|"damo module lru_sort"|"damo module reclaim"|"damo module stat"|"damo module stat read"|"damo module stat write"|"damo report access"|"damo report accuracy"|"damo report attrs"|"damo report damon"|"damo report footprints"|"damo report heatmap"|"damo report holistic"|"damo report nr_regions"|"damo report pa_layout"|"damo report profile"|"damo report record_info"|"damo report sysinfo"|"damo report times"|"damo report trace"|"damo report wss")
                cmdpath="$cmdpath $w" ;;
        esac
    done
    COMPREPLY=()
    opts=""; subs=""; words=""; files=""
    case "$cmdpath" in
        "damo")
            opts="--version -h --help"
            subs="adjust args autotune calibrate convert_record_format diagnose features help lru_sort module monitor reclaim record replay report schemes setup_cli_completion start status stop sweep tune validate version"
            ;;
        "damo adjust")
            opts="--aggregate_interval -i --input -o --output --output_type --output_permission --skip --sz_region --access_rate --age --address --sz_snapshot --snapshot_time --snapshot_idx --temperature -h --help"
            ;;
        "damo args")
            opts="-h --help"
            subs="accesses_filter accesses_format damon"
            ;;
        "damo args accesses_filter")
            opts="--sz_region --access_rate --age --address --sz_snapshot --snapshot_time --snapshot_idx --temperature --format --raw -h --help"
            ;;
        "damo args accesses_format")
            opts="--style --percentiles_range --sort_regions_by --sort_regions_dsc --temperature_weights --hist_logscale --hist_ranges --hist_cumulate --format --snapshot_heatmap_width --snapshot_heatmap_colorset --snapshot_heatmap_static --region_box --region_box_values --region_box_min_max_length --region_box_min_max_height --region_box_colorset --region_box_scales --region_box_align --min_chars_for --total_sz_only --dont_merge_regions --raw_number --json --raw_form --output_format --raw -h --help"
            ;;
        "damo args damon")
            opts="--format --raw --add --remove --replace --out --omit_defaults --debug_damon --kdamond --damon_ctx --damon_target --ops --target_pid -r --regions --numa_node --monitoring_intervals --monitoring_intervals_goal --monitoring_intervals_autotune --monitoring_nr_regions_range --damon_addr_unit --refresh_stat --probe --probe_filter --probe_weight --probe_prep --pause_ctx --obsolete_targets --damos_scheme --damos_action --damos_sz_region --damos_access_rate --damos_age --damos_apply_interval --damos_quotas --damos_quota_interval --damos_quota_time --damos_quota_space --damos_quota_weights --damos_quota_fail_charge_ratio --damos_quota_goal --damos_quota_goal_tuner --damos_nr_quota_goals --damos_filter --damos_nr_filters --damos_wmarks --damos_max_nr_snapshots --memory --sequential_access_rate --random_access_rate --seed --preset --preset_param --kdamonds -h --help"
            words="stairs zigzag hotcold random_phases 100mb.cfg 200mb.cfg 2mb.cfg 64.cfg default demo.cfg hint_test mem_perf.cfg stairs.cfg stairs_30secs.cfg zigzag.cfg zigzag_30secs.cfg"
            files=1
            ;;
        "damo autotune")
            opts="--memory --sequential_access_rate --random_access_rate --seed --damos_action --preset --ops --space --objective --runtime_weight --runtime_cap --sampler --sampler_seed --grid_points --trials --batch --jobs --scheduler --storage --study_name --compare --timeout --top --plot -o --out -h --help"
            words="stairs zigzag hotcold random_phases 100mb.cfg 200mb.cfg 2mb.cfg 64.cfg default demo.cfg hint_test mem_perf.cfg stairs.cfg stairs_30secs.cfg zigzag.cfg zigzag_30secs.cfg"
            files=1
            ;;
        "damo calibrate")
            opts="-o --out --size --buffer --reps --format -h --help"
            ;;
        "damo convert_record_format")
            opts="--record_file --format --output_file -h --help"
            ;;
        "damo diagnose")
            opts="--verbose -i --input --kdamond_idx -h --help"
            ;;
        "damo features")
            opts="--infer_version --invalidate_cache --debug_damon -h --help"
            words="supported unsupported all json"
            ;;
        "damo help")
            opts="-h --help"
            subs="access_filter_options access_format_options damon_param_options"
            ;;
        "damo help access_filter_options")
            opts="-h --help"
            ;;
        "damo help access_format_options")
            opts="-h --help"
            words="options record_format_keywords snapshot_format_keywords region_format_keywords"
            ;;
        "damo help damon_param_options")
            opts="-h --help"
            words="all monitoring damos"
            ;;
        "damo lru_sort")
            opts="--hot_thres_access_freq --cold_min_age --quota --wmarks --monitor_intervals --nr_regions --monitor_region --kdamond_idx --memory --workload --speed --seed -h --help"
            words="status enable disable"
            ;;
        "damo module")
            opts="-h --help"
            subs="lru_sort reclaim stat"
            ;;
        "damo module lru_sort")
            opts="--hot_thres_access_freq --cold_min_age --quota --wmarks --monitor_intervals --nr_regions --monitor_region --kdamond_idx --memory --workload --speed --seed -h --help"
            words="status enable disable"
            ;;
        "damo module reclaim")
            opts="--min_age --quota --wmarks --monitor_intervals --nr_regions --monitor_region --skip_anon --kdamond_idx --memory --workload --speed --seed -h --help"
            words="status enable disable commit"
            ;;
        "damo module stat")
            opts="-h --help"
            subs="read write"
            ;;
        "damo module stat read")
            opts="--idle_time_mem_sz_lines --idle_time_percentiles_range --input_idle_time_percentiles --raw_number --kdamond_idx --memory --workload --speed --seed -h --help"
            files=1
            ;;
        "damo module stat write")
            opts="--kdamond_idx --memory --workload --speed --seed -h --help"
            files=1
            ;;
        "damo monitor")
            opts="--report_type --delay --count --speed --memory --seed -h --help"
            files=1
            ;;
        "damo reclaim")
            opts="--min_age --quota --wmarks --monitor_intervals --nr_regions --monitor_region --skip_anon --kdamond_idx --memory --workload --speed --seed -h --help"
            words="status enable disable commit"
            ;;
        "damo record")
            opts="--debug_damon --kdamond --damon_ctx --damon_target --ops --target_pid -r --regions --numa_node --monitoring_intervals --monitoring_intervals_goal --monitoring_intervals_autotune --monitoring_nr_regions_range --damon_addr_unit --refresh_stat --probe --probe_filter --probe_weight --probe_prep --pause_ctx --obsolete_targets --memory --sequential_access_rate --random_access_rate --seed --exact_accesses --trace --save-trace --save_trace --time_scale --time_per_instruction --time-per-instruction --damos_scheme --damos_action --damos_sz_region --damos_access_rate --damos_age --damos_apply_interval --damos_quotas --damos_quota_interval --damos_quota_time --damos_quota_space --damos_quota_weights --damos_quota_fail_charge_ratio --damos_quota_goal --damos_quota_goal_tuner --damos_nr_quota_goals --damos_filter --damos_nr_filters --damos_wmarks --damos_max_nr_snapshots --preset --preset_param --kdamonds --schemes_target_regions -o --out --output_type --output_permission --ground_truth --exclude_child_tasks --include_child_tasks --snapshot --do_record --snapshot_damos_filter --output_flush_sec --sz_region --access_rate --age --address --sz_snapshot --snapshot_time --snapshot_idx --temperature --timeout -h --help"
            words="stairs zigzag hotcold random_phases 100mb.cfg 200mb.cfg 2mb.cfg 64.cfg default demo.cfg hint_test mem_perf.cfg stairs.cfg stairs_30secs.cfg zigzag.cfg zigzag_30secs.cfg ongoing"
            files=1
            ;;
        "damo replay")
            opts="--real --progress_notice_interval --test_perf --test_perf_sz_mem --test_perf_runtime --source_intervals --debug_damon --kdamond --damon_ctx --damon_target --ops --target_pid -r --regions --numa_node --monitoring_intervals --monitoring_intervals_goal --monitoring_intervals_autotune --monitoring_nr_regions_range --damon_addr_unit --refresh_stat --probe --probe_filter --probe_weight --probe_prep --pause_ctx --obsolete_targets --memory --sequential_access_rate --random_access_rate --seed --damos_scheme --damos_action --damos_sz_region --damos_access_rate --damos_age --damos_apply_interval --damos_quotas --damos_quota_interval --damos_quota_time --damos_quota_space --damos_quota_weights --damos_quota_fail_charge_ratio --damos_quota_goal --damos_quota_goal_tuner --damos_nr_quota_goals --damos_filter --damos_nr_filters --damos_wmarks --damos_max_nr_snapshots --preset --preset_param --kdamonds --schemes_target_regions -o --out --output_type --output_permission --ground_truth -h --help"
            files=1
            ;;
        "damo report")
            opts="-h --help"
            subs="access accuracy attrs damon footprints heatmap holistic nr_regions pa_layout profile record_info sysinfo times trace wss"
            ;;
        "damo report access")
            opts="-i --input --snapshot_damos_filter --sz_region --access_rate --age --address --sz_snapshot --snapshot_time --snapshot_idx --temperature --style --percentiles_range --sort_regions_by --sort_regions_dsc --temperature_weights --hist_logscale --hist_ranges --hist_cumulate --format --snapshot_heatmap_width --snapshot_heatmap_colorset --snapshot_heatmap_static --region_box --region_box_values --region_box_min_max_length --region_box_min_max_height --region_box_colorset --region_box_scales --region_box_align --min_chars_for --total_sz_only --dont_merge_regions --raw_number --json --raw_form --exec --repeat --debug_damon --color -h --help"
            ;;
        "damo report accuracy")
            opts="-i --input --access_rate --age --sz_region --acc_thres --sz_thres --format --overall_only --raw_number --heatmap --output --resol --time_range --address_range --tid --size --color -h --help"
            ;;
        "damo report attrs")
            opts="-i --input --snapshot_damos_filter --sz_region --access_rate --age --address --sz_snapshot --snapshot_time --snapshot_idx --temperature --style --percentiles_range --sort_regions_by --temperature_weights --hist_logscale --hist_ranges --hist_cumulate --format --adjust_region --snapshot_heatmap_width --snapshot_heatmap_colorset --snapshot_heatmap_static --min_chars_for --total_sz_only --dont_merge_regions --raw_number --json --raw_form --exec --repeat --debug_damon --color -h --help"
            ;;
        "damo report damon")
            opts="--format --raw --kdamond_idx --kdamonds_summary --damos_stats --damos_stat_fields --damon_params --input_file --show_cpu_usage --omit_damos_tried_regions --damon_params_omit_defaults --debug_damon -h --help"
            ;;
        "damo report footprints")
            opts="-i --input -r --range -s --sortby -p --plot --size --nr_cols_bar --raw_number --all_footprint -h --help"
            words="vsz rss sys_used all"
            ;;
        "damo report heatmap")
            opts="-i --input --output --resol --time_range --address_range --draw_range --guide --guide_human --stdout_colorset --stdout_skip_colorset_example --color --abs_time --abs_addr --size --tid --kdamond_idx --context_idx --scheme_idx --df_passed --sort_temperature --temperature_weights --interactive_edit -h --help"
            ;;
        "damo report holistic")
            opts="--access_pattern --footprints --profile --long --perf_path --color -h --help"
            ;;
        "damo report nr_regions")
            opts="-i --input -r --range -s --sortby -p --plot --size -h --help"
            ;;
        "damo report pa_layout")
            opts="--numa_node --numa_addr --raw_number -i --input --kdamond_idx -h --help"
            ;;
        "damo report profile")
            opts="-i --input --inputs --baseline --sections --nr_rows -p --plot --size --format --hottest --sz_region --access_rate --age --address --sz_snapshot --snapshot_time --snapshot_idx --temperature --nr_functions --color -h --help"
            ;;
        "damo report record_info")
            opts="-i --input --raw_numbers -h --help"
            ;;
        "damo report sysinfo")
            opts="--print --invalidate_cache -i --input --kdamond_idx --raw_number -h --help"
            ;;
        "damo report times")
            opts="--inputs --sz_region --access_rate --age --address --sz_snapshot --snapshot_time --snapshot_idx --temperature -h --help"
            ;;
        "damo report trace")
            opts="--event --no_event --tracer -i --input -o --output --raw --max_cols -h --help"
            ;;
        "damo report wss")
            opts="-i --input -r --range --exclude_samples -t --acc_thres --sz_thres --work_time -s --sortby -p --plot --size --nr_cols_bar --raw_number --all_wss --per_target --collapse_targets -h --help"
            ;;
        "damo schemes")
            opts="--debug_damon --kdamond --damon_ctx --damon_target --ops --target_pid -r --regions --numa_node --monitoring_intervals --monitoring_intervals_goal --monitoring_intervals_autotune --monitoring_nr_regions_range --damon_addr_unit --refresh_stat --probe --probe_filter --probe_weight --probe_prep --pause_ctx --obsolete_targets --damos_scheme --damos_action --damos_sz_region --damos_access_rate --damos_age --damos_apply_interval --damos_quotas --damos_quota_interval --damos_quota_time --damos_quota_space --damos_quota_weights --damos_quota_fail_charge_ratio --damos_quota_goal --damos_quota_goal_tuner --damos_nr_quota_goals --damos_filter --damos_nr_filters --damos_wmarks --damos_max_nr_snapshots --memory --sequential_access_rate --random_access_rate --seed --preset --preset_param --kdamonds --speed -h --help"
            words="stairs zigzag hotcold random_phases 100mb.cfg 200mb.cfg 2mb.cfg 64.cfg default demo.cfg hint_test mem_perf.cfg stairs.cfg stairs_30secs.cfg zigzag.cfg zigzag_30secs.cfg"
            files=1
            ;;
        "damo setup_cli_completion")
            opts="--shell -h --help"
            ;;
        "damo start")
            opts="--debug_damon --kdamond --damon_ctx --damon_target --ops --target_pid -r --regions --numa_node --monitoring_intervals --monitoring_intervals_goal --monitoring_intervals_autotune --monitoring_nr_regions_range --damon_addr_unit --refresh_stat --probe --probe_filter --probe_weight --probe_prep --pause_ctx --obsolete_targets --damos_scheme --damos_action --damos_sz_region --damos_access_rate --damos_age --damos_apply_interval --damos_quotas --damos_quota_interval --damos_quota_time --damos_quota_space --damos_quota_weights --damos_quota_fail_charge_ratio --damos_quota_goal --damos_quota_goal_tuner --damos_nr_quota_goals --damos_filter --damos_nr_filters --damos_wmarks --damos_max_nr_snapshots --memory --sequential_access_rate --random_access_rate --seed --exact_accesses --preset --preset_param --kdamonds --speed --include_child_tasks -h --help"
            words="stairs zigzag hotcold random_phases 100mb.cfg 200mb.cfg 2mb.cfg 64.cfg default demo.cfg hint_test mem_perf.cfg stairs.cfg stairs_30secs.cfg zigzag.cfg zigzag_30secs.cfg"
            files=1
            ;;
        "damo status")
            opts="--format --raw --kdamond_idx --kdamonds_summary --damos_stats --damos_stat_fields --damon_params --input_file --show_cpu_usage --omit_damos_tried_regions --damon_params_omit_defaults -h --help"
            ;;
        "damo stop")
            opts="--kdamond_idx --debug_damon -h --help"
            ;;
        "damo sweep")
            opts="--param --memory --seed --sequential_access_rate --random_access_rate --timeout -j --jobs --scheduler --format --plot --metric --size -h --help"
            words="stairs zigzag hotcold random_phases 100mb.cfg 200mb.cfg 2mb.cfg 64.cfg default demo.cfg hint_test mem_perf.cfg stairs.cfg stairs_30secs.cfg zigzag.cfg zigzag_30secs.cfg"
            files=1
            ;;
        "damo tune")
            opts="--debug_damon --kdamond --damon_ctx --damon_target --ops --target_pid -r --regions --numa_node --monitoring_intervals --monitoring_intervals_goal --monitoring_intervals_autotune --monitoring_nr_regions_range --damon_addr_unit --refresh_stat --probe --probe_filter --probe_weight --probe_prep --pause_ctx --obsolete_targets --damos_scheme --damos_action --damos_sz_region --damos_access_rate --damos_age --damos_apply_interval --damos_quotas --damos_quota_interval --damos_quota_time --damos_quota_space --damos_quota_weights --damos_quota_fail_charge_ratio --damos_quota_goal --damos_quota_goal_tuner --damos_nr_quota_goals --damos_filter --damos_nr_filters --damos_wmarks --damos_max_nr_snapshots --quota_goals_only --reset --kdamond_idx --speed -h --help"
            files=1
            ;;
        "damo validate")
            opts="-i --input --aggr --nr_regions --nr_accesses --allow_error --regions_boundary -h --help"
            ;;
        "damo version")
            opts="-h --help"
            ;;
    esac
    IFS=$' \t\n'
    if [[ "$cur" == -* ]]; then
        COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
        return 0
    fi
    case "$cmdpath|$prev" in
        "damo adjust|--output_type")
            COMPREPLY=( $(compgen -W "json_compressed json perf_script perf_data native" -- "$cur") )
            return 0 ;;
        "damo args accesses_filter|--format")
            COMPREPLY=( $(compgen -W "json yaml" -- "$cur") )
            return 0 ;;
        "damo args accesses_format|--style")
            COMPREPLY=( $(compgen -W "detailed simple-boxes temperature-sz-hist recency-sz-hist cold-memory-tail recency-percentiles idle-time-percentiles temperature-percentiles cold hot" -- "$cur") )
            return 0 ;;
        "damo args accesses_format|--snapshot_heatmap_colorset")
            COMPREPLY=( $(compgen -W "gray flame emotion" -- "$cur") )
            return 0 ;;
        "damo args accesses_format|--region_box_values")
            COMPREPLY=( $(compgen -W "size access_rate age none" -- "$cur") )
            return 0 ;;
        "damo args accesses_format|--region_box_colorset")
            COMPREPLY=( $(compgen -W "gray flame emotion" -- "$cur") )
            return 0 ;;
        "damo args accesses_format|--region_box_scales")
            COMPREPLY=( $(compgen -W "linear log" -- "$cur") )
            return 0 ;;
        "damo args accesses_format|--region_box_align")
            COMPREPLY=( $(compgen -W "left right" -- "$cur") )
            return 0 ;;
        "damo args accesses_format|--output_format")
            COMPREPLY=( $(compgen -W "json yaml" -- "$cur") )
            return 0 ;;
        "damo args damon|--format")
            COMPREPLY=( $(compgen -W "json yaml report" -- "$cur") )
            return 0 ;;
        "damo args damon|--ops")
            COMPREPLY=( $(compgen -W "vaddr fvaddr paddr" -- "$cur") )
            return 0 ;;
        "damo args damon|--damos_action")
            COMPREPLY=( $(compgen -W "willneed cold pageout hugepage collapse nohugepage lru_prio lru_deprio migrate_hot migrate_cold stat" -- "$cur") )
            return 0 ;;
        "damo args damon|--damos_quota_goal")
            COMPREPLY=( $(compgen -W "user_input some_mem_psi_us node_mem_used_bp node_mem_free_bp node_memcg_used_bp node_memcg_free_bp active_mem_bp inactive_mem_bp node_eligible_mem_bp" -- "$cur") )
            return 0 ;;
        "damo args damon|--damos_quota_goal_tuner")
            COMPREPLY=( $(compgen -W "consist temporal" -- "$cur") )
            return 0 ;;
        "damo args damon|--damos_filter")
            COMPREPLY=( $(compgen -W "allow reject" -- "$cur") )
            return 0 ;;
        "damo args damon|--damos_wmarks")
            COMPREPLY=( $(compgen -W "none free_mem_rate" -- "$cur") )
            return 0 ;;
        "damo args damon|--preset")
            COMPREPLY=( $(compgen -W "ethp lru_sort mtier prcl reclaim" -- "$cur") )
            return 0 ;;
        "damo autotune|--damos_action")
            COMPREPLY=( $(compgen -W "willneed cold pageout hugepage collapse nohugepage lru_prio lru_deprio migrate_hot migrate_cold stat" -- "$cur") )
            return 0 ;;
        "damo autotune|--ops")
            COMPREPLY=( $(compgen -W "vaddr fvaddr paddr" -- "$cur") )
            return 0 ;;
        "damo autotune|--sampler")
            COMPREPLY=( $(compgen -W "tpe grid random" -- "$cur") )
            return 0 ;;
        "damo calibrate|--format")
            COMPREPLY=( $(compgen -W "text json" -- "$cur") )
            return 0 ;;
        "damo convert_record_format|--format")
            COMPREPLY=( $(compgen -W "json_compressed json perf_script perf_data native" -- "$cur") )
            return 0 ;;
        "damo monitor|--report_type")
            COMPREPLY=( $(compgen -W "heats wss holistic access heatmap nr_regions record_info" -- "$cur") )
            return 0 ;;
        "damo record|--ops")
            COMPREPLY=( $(compgen -W "vaddr fvaddr paddr" -- "$cur") )
            return 0 ;;
        "damo record|--damos_action")
            COMPREPLY=( $(compgen -W "willneed cold pageout hugepage collapse nohugepage lru_prio lru_deprio migrate_hot migrate_cold stat" -- "$cur") )
            return 0 ;;
        "damo record|--damos_quota_goal")
            COMPREPLY=( $(compgen -W "user_input some_mem_psi_us node_mem_used_bp node_mem_free_bp node_memcg_used_bp node_memcg_free_bp active_mem_bp inactive_mem_bp node_eligible_mem_bp" -- "$cur") )
            return 0 ;;
        "damo record|--damos_quota_goal_tuner")
            COMPREPLY=( $(compgen -W "consist temporal" -- "$cur") )
            return 0 ;;
        "damo record|--damos_filter")
            COMPREPLY=( $(compgen -W "allow reject" -- "$cur") )
            return 0 ;;
        "damo record|--damos_wmarks")
            COMPREPLY=( $(compgen -W "none free_mem_rate" -- "$cur") )
            return 0 ;;
        "damo record|--preset")
            COMPREPLY=( $(compgen -W "ethp lru_sort mtier prcl reclaim" -- "$cur") )
            return 0 ;;
        "damo record|--output_type")
            COMPREPLY=( $(compgen -W "json_compressed json perf_script perf_data native" -- "$cur") )
            return 0 ;;
        "damo replay|--ops")
            COMPREPLY=( $(compgen -W "vaddr fvaddr paddr" -- "$cur") )
            return 0 ;;
        "damo replay|--damos_action")
            COMPREPLY=( $(compgen -W "willneed cold pageout hugepage collapse nohugepage lru_prio lru_deprio migrate_hot migrate_cold stat" -- "$cur") )
            return 0 ;;
        "damo replay|--damos_quota_goal")
            COMPREPLY=( $(compgen -W "user_input some_mem_psi_us node_mem_used_bp node_mem_free_bp node_memcg_used_bp node_memcg_free_bp active_mem_bp inactive_mem_bp node_eligible_mem_bp" -- "$cur") )
            return 0 ;;
        "damo replay|--damos_quota_goal_tuner")
            COMPREPLY=( $(compgen -W "consist temporal" -- "$cur") )
            return 0 ;;
        "damo replay|--damos_filter")
            COMPREPLY=( $(compgen -W "allow reject" -- "$cur") )
            return 0 ;;
        "damo replay|--damos_wmarks")
            COMPREPLY=( $(compgen -W "none free_mem_rate" -- "$cur") )
            return 0 ;;
        "damo replay|--preset")
            COMPREPLY=( $(compgen -W "ethp lru_sort mtier prcl reclaim" -- "$cur") )
            return 0 ;;
        "damo replay|--output_type")
            COMPREPLY=( $(compgen -W "json_compressed json perf_script perf_data native" -- "$cur") )
            return 0 ;;
        "damo report access|--style")
            COMPREPLY=( $(compgen -W "detailed simple-boxes temperature-sz-hist recency-sz-hist cold-memory-tail recency-percentiles idle-time-percentiles temperature-percentiles cold hot" -- "$cur") )
            return 0 ;;
        "damo report access|--snapshot_heatmap_colorset")
            COMPREPLY=( $(compgen -W "gray flame emotion" -- "$cur") )
            return 0 ;;
        "damo report access|--region_box_values")
            COMPREPLY=( $(compgen -W "size access_rate age none" -- "$cur") )
            return 0 ;;
        "damo report access|--region_box_colorset")
            COMPREPLY=( $(compgen -W "gray flame emotion" -- "$cur") )
            return 0 ;;
        "damo report access|--region_box_scales")
            COMPREPLY=( $(compgen -W "linear log" -- "$cur") )
            return 0 ;;
        "damo report access|--region_box_align")
            COMPREPLY=( $(compgen -W "left right" -- "$cur") )
            return 0 ;;
        "damo report access|--color")
            COMPREPLY=( $(compgen -W "auto always never" -- "$cur") )
            return 0 ;;
        "damo report accuracy|--format")
            COMPREPLY=( $(compgen -W "text json" -- "$cur") )
            return 0 ;;
        "damo report accuracy|--color")
            COMPREPLY=( $(compgen -W "auto always never" -- "$cur") )
            return 0 ;;
        "damo report attrs|--style")
            COMPREPLY=( $(compgen -W "detailed temperature-sz-hist recency-sz-hist cold-memory-tail recency-percentiles idle-time-percentiles temperature-percentiles" -- "$cur") )
            return 0 ;;
        "damo report attrs|--snapshot_heatmap_colorset")
            COMPREPLY=( $(compgen -W "gray flame emotion" -- "$cur") )
            return 0 ;;
        "damo report attrs|--color")
            COMPREPLY=( $(compgen -W "auto always never" -- "$cur") )
            return 0 ;;
        "damo report damon|--format")
            COMPREPLY=( $(compgen -W "report json yaml" -- "$cur") )
            return 0 ;;
        "damo report damon|--damos_stat_fields")
            COMPREPLY=( $(compgen -W "nr_tried sz_tried nr_applied sz_applied sz_ops_filter_passed qt_exceeds nr_snapshots max_nr_snapshots" -- "$cur") )
            return 0 ;;
        "damo report footprints|-s"|"damo report footprints|--sortby")
            COMPREPLY=( $(compgen -W "time size" -- "$cur") )
            return 0 ;;
        "damo report heatmap|--draw_range")
            COMPREPLY=( $(compgen -W "hottest all" -- "$cur") )
            return 0 ;;
        "damo report heatmap|--stdout_colorset")
            COMPREPLY=( $(compgen -W "emotion flame gray" -- "$cur") )
            return 0 ;;
        "damo report heatmap|--color")
            COMPREPLY=( $(compgen -W "auto always never" -- "$cur") )
            return 0 ;;
        "damo report holistic|--color")
            COMPREPLY=( $(compgen -W "auto always never" -- "$cur") )
            return 0 ;;
        "damo report nr_regions|-s"|"damo report nr_regions|--sortby")
            COMPREPLY=( $(compgen -W "time size" -- "$cur") )
            return 0 ;;
        "damo report profile|--format")
            COMPREPLY=( $(compgen -W "text json" -- "$cur") )
            return 0 ;;
        "damo report profile|--color")
            COMPREPLY=( $(compgen -W "auto always never" -- "$cur") )
            return 0 ;;
        "damo report trace|--tracer")
            COMPREPLY=( $(compgen -W "perf trace-cmd" -- "$cur") )
            return 0 ;;
        "damo report wss|-s"|"damo report wss|--sortby")
            COMPREPLY=( $(compgen -W "time size" -- "$cur") )
            return 0 ;;
        "damo schemes|--ops")
            COMPREPLY=( $(compgen -W "vaddr fvaddr paddr" -- "$cur") )
            return 0 ;;
        "damo schemes|--damos_action")
            COMPREPLY=( $(compgen -W "willneed cold pageout hugepage collapse nohugepage lru_prio lru_deprio migrate_hot migrate_cold stat" -- "$cur") )
            return 0 ;;
        "damo schemes|--damos_quota_goal")
            COMPREPLY=( $(compgen -W "user_input some_mem_psi_us node_mem_used_bp node_mem_free_bp node_memcg_used_bp node_memcg_free_bp active_mem_bp inactive_mem_bp node_eligible_mem_bp" -- "$cur") )
            return 0 ;;
        "damo schemes|--damos_quota_goal_tuner")
            COMPREPLY=( $(compgen -W "consist temporal" -- "$cur") )
            return 0 ;;
        "damo schemes|--damos_filter")
            COMPREPLY=( $(compgen -W "allow reject" -- "$cur") )
            return 0 ;;
        "damo schemes|--damos_wmarks")
            COMPREPLY=( $(compgen -W "none free_mem_rate" -- "$cur") )
            return 0 ;;
        "damo schemes|--preset")
            COMPREPLY=( $(compgen -W "ethp lru_sort mtier prcl reclaim" -- "$cur") )
            return 0 ;;
        "damo setup_cli_completion|--shell")
            COMPREPLY=( $(compgen -W "bash zsh fish" -- "$cur") )
            return 0 ;;
        "damo start|--ops")
            COMPREPLY=( $(compgen -W "vaddr fvaddr paddr" -- "$cur") )
            return 0 ;;
        "damo start|--damos_action")
            COMPREPLY=( $(compgen -W "willneed cold pageout hugepage collapse nohugepage lru_prio lru_deprio migrate_hot migrate_cold stat" -- "$cur") )
            return 0 ;;
        "damo start|--damos_quota_goal")
            COMPREPLY=( $(compgen -W "user_input some_mem_psi_us node_mem_used_bp node_mem_free_bp node_memcg_used_bp node_memcg_free_bp active_mem_bp inactive_mem_bp node_eligible_mem_bp" -- "$cur") )
            return 0 ;;
        "damo start|--damos_quota_goal_tuner")
            COMPREPLY=( $(compgen -W "consist temporal" -- "$cur") )
            return 0 ;;
        "damo start|--damos_filter")
            COMPREPLY=( $(compgen -W "allow reject" -- "$cur") )
            return 0 ;;
        "damo start|--damos_wmarks")
            COMPREPLY=( $(compgen -W "none free_mem_rate" -- "$cur") )
            return 0 ;;
        "damo start|--preset")
            COMPREPLY=( $(compgen -W "ethp lru_sort mtier prcl reclaim" -- "$cur") )
            return 0 ;;
        "damo status|--format")
            COMPREPLY=( $(compgen -W "report json yaml" -- "$cur") )
            return 0 ;;
        "damo status|--damos_stat_fields")
            COMPREPLY=( $(compgen -W "nr_tried sz_tried nr_applied sz_applied sz_ops_filter_passed qt_exceeds nr_snapshots max_nr_snapshots" -- "$cur") )
            return 0 ;;
        "damo sweep|--format")
            COMPREPLY=( $(compgen -W "text json" -- "$cur") )
            return 0 ;;
        "damo sweep|--metric")
            COMPREPLY=( $(compgen -W "page_freq_error region_freq_error wss_error hot_precision hot_recall cold_precision cold_recall" -- "$cur") )
            return 0 ;;
        "damo tune|--ops")
            COMPREPLY=( $(compgen -W "vaddr fvaddr paddr" -- "$cur") )
            return 0 ;;
        "damo tune|--damos_action")
            COMPREPLY=( $(compgen -W "willneed cold pageout hugepage collapse nohugepage lru_prio lru_deprio migrate_hot migrate_cold stat" -- "$cur") )
            return 0 ;;
        "damo tune|--damos_quota_goal")
            COMPREPLY=( $(compgen -W "user_input some_mem_psi_us node_mem_used_bp node_mem_free_bp node_memcg_used_bp node_memcg_free_bp active_mem_bp inactive_mem_bp node_eligible_mem_bp" -- "$cur") )
            return 0 ;;
        "damo tune|--damos_quota_goal_tuner")
            COMPREPLY=( $(compgen -W "consist temporal" -- "$cur") )
            return 0 ;;
        "damo tune|--damos_filter")
            COMPREPLY=( $(compgen -W "allow reject" -- "$cur") )
            return 0 ;;
        "damo tune|--damos_wmarks")
            COMPREPLY=( $(compgen -W "none free_mem_rate" -- "$cur") )
            return 0 ;;
        "damo adjust|-i"|"damo adjust|--input"|"damo adjust|-o"|"damo adjust|--output"|"damo args damon|--add"|"damo args damon|--remove"|"damo args damon|--replace"|"damo args damon|--out"|"damo args damon|--kdamonds"|"damo autotune|--plot"|"damo autotune|-o"|"damo autotune|--out"|"damo calibrate|-o"|"damo calibrate|--out"|"damo convert_record_format|--record_file"|"damo convert_record_format|--output_file"|"damo diagnose|-i"|"damo diagnose|--input"|"damo record|--trace"|"damo record|--save-trace"|"damo record|--save_trace"|"damo record|--kdamonds"|"damo record|-o"|"damo record|--out"|"damo replay|--kdamonds"|"damo replay|-o"|"damo replay|--out"|"damo report access|-i"|"damo report access|--input"|"damo report accuracy|-i"|"damo report accuracy|--input"|"damo report accuracy|--output"|"damo report attrs|-i"|"damo report attrs|--input"|"damo report damon|--input_file"|"damo report footprints|-i"|"damo report footprints|--input"|"damo report footprints|-p"|"damo report footprints|--plot"|"damo report heatmap|-i"|"damo report heatmap|--input"|"damo report heatmap|--output"|"damo report holistic|--access_pattern"|"damo report holistic|--footprints"|"damo report holistic|--profile"|"damo report nr_regions|-i"|"damo report nr_regions|--input"|"damo report nr_regions|-p"|"damo report nr_regions|--plot"|"damo report pa_layout|-i"|"damo report pa_layout|--input"|"damo report profile|-i"|"damo report profile|--input"|"damo report profile|--inputs"|"damo report profile|--baseline"|"damo report profile|-p"|"damo report profile|--plot"|"damo report record_info|-i"|"damo report record_info|--input"|"damo report sysinfo|-i"|"damo report sysinfo|--input"|"damo report times|--inputs"|"damo report trace|-i"|"damo report trace|--input"|"damo report trace|-o"|"damo report trace|--output"|"damo report wss|-i"|"damo report wss|--input"|"damo report wss|-p"|"damo report wss|--plot"|"damo schemes|--kdamonds"|"damo start|--kdamonds"|"damo status|--input_file"|"damo sweep|--plot"|"damo validate|-i"|"damo validate|--input")
            IFS=$'\n'
            COMPREPLY=( $(compgen -f -- "$cur") )
            compopt -o filenames 2>/dev/null
            return 0 ;;
        "damo adjust|--aggregate_interval"|"damo adjust|--output_permission"|"damo adjust|--skip"|"damo adjust|--sz_region"|"damo adjust|--access_rate"|"damo adjust|--age"|"damo adjust|--address"|"damo adjust|--sz_snapshot"|"damo adjust|--snapshot_time"|"damo adjust|--snapshot_idx"|"damo adjust|--temperature"|"damo args accesses_filter|--sz_region"|"damo args accesses_filter|--access_rate"|"damo args accesses_filter|--age"|"damo args accesses_filter|--address"|"damo args accesses_filter|--sz_snapshot"|"damo args accesses_filter|--snapshot_time"|"damo args accesses_filter|--snapshot_idx"|"damo args accesses_filter|--temperature"|"damo args accesses_format|--percentiles_range"|"damo args accesses_format|--sort_regions_by"|"damo args accesses_format|--sort_regions_dsc"|"damo args accesses_format|--temperature_weights"|"damo args accesses_format|--hist_ranges"|"damo args accesses_format|--format"|"damo args accesses_format|--snapshot_heatmap_width"|"damo args accesses_format|--region_box_min_max_length"|"damo args accesses_format|--region_box_min_max_height"|"damo args accesses_format|--min_chars_for"|"damo args damon|--target_pid"|"damo args damon|-r"|"damo args damon|--regions"|"damo args damon|--numa_node"|"damo args damon|--monitoring_intervals"|"damo args damon|--monitoring_intervals_goal"|"damo args damon|--monitoring_nr_regions_range"|"damo args damon|--damon_addr_unit"|"damo args damon|--refresh_stat"|"damo args damon|--probe_filter"|"damo args damon|--probe_weight"|"damo args damon|--probe_prep"|"damo args damon|--pause_ctx"|"damo args damon|--obsolete_targets"|"damo args damon|--damos_sz_region"|"damo args damon|--damos_access_rate"|"damo args damon|--damos_age"|"damo args damon|--damos_apply_interval"|"damo args damon|--damos_quotas"|"damo args damon|--damos_quota_interval"|"damo args damon|--damos_quota_time"|"damo args damon|--damos_quota_space"|"damo args damon|--damos_quota_weights"|"damo args damon|--damos_quota_fail_charge_ratio"|"damo args damon|--damos_nr_quota_goals"|"damo args damon|--damos_nr_filters"|"damo args damon|--damos_max_nr_snapshots"|"damo args damon|--memory"|"damo args damon|--sequential_access_rate"|"damo args damon|--random_access_rate"|"damo args damon|--seed"|"damo args damon|--preset_param"|"damo autotune|--memory"|"damo autotune|--sequential_access_rate"|"damo autotune|--random_access_rate"|"damo autotune|--seed"|"damo autotune|--preset"|"damo autotune|--space"|"damo autotune|--objective"|"damo autotune|--runtime_weight"|"damo autotune|--runtime_cap"|"damo autotune|--sampler_seed"|"damo autotune|--grid_points"|"damo autotune|--trials"|"damo autotune|--batch"|"damo autotune|--jobs"|"damo autotune|--scheduler"|"damo autotune|--storage"|"damo autotune|--study_name"|"damo autotune|--compare"|"damo autotune|--timeout"|"damo autotune|--top"|"damo calibrate|--size"|"damo calibrate|--buffer"|"damo calibrate|--reps"|"damo diagnose|--kdamond_idx"|"damo lru_sort|--hot_thres_access_freq"|"damo lru_sort|--cold_min_age"|"damo lru_sort|--quota"|"damo lru_sort|--wmarks"|"damo lru_sort|--monitor_intervals"|"damo lru_sort|--nr_regions"|"damo lru_sort|--monitor_region"|"damo lru_sort|--kdamond_idx"|"damo lru_sort|--memory"|"damo lru_sort|--workload"|"damo lru_sort|--speed"|"damo lru_sort|--seed"|"damo module lru_sort|--hot_thres_access_freq"|"damo module lru_sort|--cold_min_age"|"damo module lru_sort|--quota"|"damo module lru_sort|--wmarks"|"damo module lru_sort|--monitor_intervals"|"damo module lru_sort|--nr_regions"|"damo module lru_sort|--monitor_region"|"damo module lru_sort|--kdamond_idx"|"damo module lru_sort|--memory"|"damo module lru_sort|--workload"|"damo module lru_sort|--speed"|"damo module lru_sort|--seed"|"damo module reclaim|--min_age"|"damo module reclaim|--quota"|"damo module reclaim|--wmarks"|"damo module reclaim|--monitor_intervals"|"damo module reclaim|--nr_regions"|"damo module reclaim|--monitor_region"|"damo module reclaim|--kdamond_idx"|"damo module reclaim|--memory"|"damo module reclaim|--workload"|"damo module reclaim|--speed"|"damo module reclaim|--seed"|"damo module stat read|--idle_time_mem_sz_lines"|"damo module stat read|--idle_time_percentiles_range"|"damo module stat read|--input_idle_time_percentiles"|"damo module stat read|--kdamond_idx"|"damo module stat read|--memory"|"damo module stat read|--workload"|"damo module stat read|--speed"|"damo module stat read|--seed"|"damo module stat write|--kdamond_idx"|"damo module stat write|--memory"|"damo module stat write|--workload"|"damo module stat write|--speed"|"damo module stat write|--seed"|"damo monitor|--delay"|"damo monitor|--count"|"damo monitor|--speed"|"damo monitor|--memory"|"damo monitor|--seed"|"damo reclaim|--min_age"|"damo reclaim|--quota"|"damo reclaim|--wmarks"|"damo reclaim|--monitor_intervals"|"damo reclaim|--nr_regions"|"damo reclaim|--monitor_region"|"damo reclaim|--kdamond_idx"|"damo reclaim|--memory"|"damo reclaim|--workload"|"damo reclaim|--speed"|"damo reclaim|--seed"|"damo record|--target_pid"|"damo record|-r"|"damo record|--regions"|"damo record|--numa_node"|"damo record|--monitoring_intervals"|"damo record|--monitoring_intervals_goal"|"damo record|--monitoring_nr_regions_range"|"damo record|--damon_addr_unit"|"damo record|--refresh_stat"|"damo record|--probe_filter"|"damo record|--probe_weight"|"damo record|--probe_prep"|"damo record|--pause_ctx"|"damo record|--obsolete_targets"|"damo record|--memory"|"damo record|--sequential_access_rate"|"damo record|--random_access_rate"|"damo record|--seed"|"damo record|--time_scale"|"damo record|--time_per_instruction"|"damo record|--time-per-instruction"|"damo record|--damos_sz_region"|"damo record|--damos_access_rate"|"damo record|--damos_age"|"damo record|--damos_apply_interval"|"damo record|--damos_quotas"|"damo record|--damos_quota_interval"|"damo record|--damos_quota_time"|"damo record|--damos_quota_space"|"damo record|--damos_quota_weights"|"damo record|--damos_quota_fail_charge_ratio"|"damo record|--damos_nr_quota_goals"|"damo record|--damos_nr_filters"|"damo record|--damos_max_nr_snapshots"|"damo record|--preset_param"|"damo record|--output_permission"|"damo record|--snapshot"|"damo record|--do_record"|"damo record|--snapshot_damos_filter"|"damo record|--output_flush_sec"|"damo record|--sz_region"|"damo record|--access_rate"|"damo record|--age"|"damo record|--address"|"damo record|--sz_snapshot"|"damo record|--snapshot_time"|"damo record|--snapshot_idx"|"damo record|--temperature"|"damo record|--timeout"|"damo replay|--progress_notice_interval"|"damo replay|--test_perf_sz_mem"|"damo replay|--test_perf_runtime"|"damo replay|--source_intervals"|"damo replay|--target_pid"|"damo replay|-r"|"damo replay|--regions"|"damo replay|--numa_node"|"damo replay|--monitoring_intervals"|"damo replay|--monitoring_intervals_goal"|"damo replay|--monitoring_nr_regions_range"|"damo replay|--damon_addr_unit"|"damo replay|--refresh_stat"|"damo replay|--probe_filter"|"damo replay|--probe_weight"|"damo replay|--probe_prep"|"damo replay|--pause_ctx"|"damo replay|--obsolete_targets"|"damo replay|--memory"|"damo replay|--sequential_access_rate"|"damo replay|--random_access_rate"|"damo replay|--seed"|"damo replay|--damos_sz_region"|"damo replay|--damos_access_rate"|"damo replay|--damos_age"|"damo replay|--damos_apply_interval"|"damo replay|--damos_quotas"|"damo replay|--damos_quota_interval"|"damo replay|--damos_quota_time"|"damo replay|--damos_quota_space"|"damo replay|--damos_quota_weights"|"damo replay|--damos_quota_fail_charge_ratio"|"damo replay|--damos_nr_quota_goals"|"damo replay|--damos_nr_filters"|"damo replay|--damos_max_nr_snapshots"|"damo replay|--preset_param"|"damo replay|--output_permission"|"damo report access|--snapshot_damos_filter"|"damo report access|--sz_region"|"damo report access|--access_rate"|"damo report access|--age"|"damo report access|--address"|"damo report access|--sz_snapshot"|"damo report access|--snapshot_time"|"damo report access|--snapshot_idx"|"damo report access|--temperature"|"damo report access|--percentiles_range"|"damo report access|--sort_regions_by"|"damo report access|--sort_regions_dsc"|"damo report access|--temperature_weights"|"damo report access|--hist_ranges"|"damo report access|--format"|"damo report access|--snapshot_heatmap_width"|"damo report access|--region_box_min_max_length"|"damo report access|--region_box_min_max_height"|"damo report access|--min_chars_for"|"damo report access|--exec"|"damo report access|--repeat"|"damo report accuracy|--access_rate"|"damo report accuracy|--age"|"damo report accuracy|--sz_region"|"damo report accuracy|--acc_thres"|"damo report accuracy|--sz_thres"|"damo report accuracy|--resol"|"damo report accuracy|--time_range"|"damo report accuracy|--address_range"|"damo report accuracy|--tid"|"damo report accuracy|--size"|"damo report attrs|--snapshot_damos_filter"|"damo report attrs|--sz_region"|"damo report attrs|--access_rate"|"damo report attrs|--age"|"damo report attrs|--address"|"damo report attrs|--sz_snapshot"|"damo report attrs|--snapshot_time"|"damo report attrs|--snapshot_idx"|"damo report attrs|--temperature"|"damo report attrs|--percentiles_range"|"damo report attrs|--sort_regions_by"|"damo report attrs|--temperature_weights"|"damo report attrs|--hist_ranges"|"damo report attrs|--format"|"damo report attrs|--adjust_region"|"damo report attrs|--snapshot_heatmap_width"|"damo report attrs|--min_chars_for"|"damo report attrs|--exec"|"damo report attrs|--repeat"|"damo report damon|--kdamond_idx"|"damo report footprints|-r"|"damo report footprints|--range"|"damo report footprints|--size"|"damo report footprints|--nr_cols_bar"|"damo report heatmap|--resol"|"damo report heatmap|--time_range"|"damo report heatmap|--address_range"|"damo report heatmap|--size"|"damo report heatmap|--tid"|"damo report heatmap|--kdamond_idx"|"damo report heatmap|--context_idx"|"damo report heatmap|--scheme_idx"|"damo report heatmap|--temperature_weights"|"damo report holistic|--perf_path"|"damo report nr_regions|-r"|"damo report nr_regions|--range"|"damo report nr_regions|--size"|"damo report pa_layout|--numa_node"|"damo report pa_layout|--numa_addr"|"damo report pa_layout|--kdamond_idx"|"damo report profile|--sections"|"damo report profile|--nr_rows"|"damo report profile|--size"|"damo report profile|--hottest"|"damo report profile|--sz_region"|"damo report profile|--access_rate"|"damo report profile|--age"|"damo report profile|--address"|"damo report profile|--sz_snapshot"|"damo report profile|--snapshot_time"|"damo report profile|--snapshot_idx"|"damo report profile|--temperature"|"damo report profile|--nr_functions"|"damo report sysinfo|--print"|"damo report sysinfo|--kdamond_idx"|"damo report times|--sz_region"|"damo report times|--access_rate"|"damo report times|--age"|"damo report times|--address"|"damo report times|--sz_snapshot"|"damo report times|--snapshot_time"|"damo report times|--snapshot_idx"|"damo report times|--temperature"|"damo report trace|--event"|"damo report trace|--no_event"|"damo report trace|--max_cols"|"damo report wss|-r"|"damo report wss|--range"|"damo report wss|--exclude_samples"|"damo report wss|-t"|"damo report wss|--acc_thres"|"damo report wss|--sz_thres"|"damo report wss|--work_time"|"damo report wss|--size"|"damo report wss|--nr_cols_bar"|"damo schemes|--target_pid"|"damo schemes|-r"|"damo schemes|--regions"|"damo schemes|--numa_node"|"damo schemes|--monitoring_intervals"|"damo schemes|--monitoring_intervals_goal"|"damo schemes|--monitoring_nr_regions_range"|"damo schemes|--damon_addr_unit"|"damo schemes|--refresh_stat"|"damo schemes|--probe_filter"|"damo schemes|--probe_weight"|"damo schemes|--probe_prep"|"damo schemes|--pause_ctx"|"damo schemes|--obsolete_targets"|"damo schemes|--damos_sz_region"|"damo schemes|--damos_access_rate"|"damo schemes|--damos_age"|"damo schemes|--damos_apply_interval"|"damo schemes|--damos_quotas"|"damo schemes|--damos_quota_interval"|"damo schemes|--damos_quota_time"|"damo schemes|--damos_quota_space"|"damo schemes|--damos_quota_weights"|"damo schemes|--damos_quota_fail_charge_ratio"|"damo schemes|--damos_nr_quota_goals"|"damo schemes|--damos_nr_filters"|"damo schemes|--damos_max_nr_snapshots"|"damo schemes|--memory"|"damo schemes|--sequential_access_rate"|"damo schemes|--random_access_rate"|"damo schemes|--seed"|"damo schemes|--preset_param"|"damo schemes|--speed"|"damo start|--target_pid"|"damo start|-r"|"damo start|--regions"|"damo start|--numa_node"|"damo start|--monitoring_intervals"|"damo start|--monitoring_intervals_goal"|"damo start|--monitoring_nr_regions_range"|"damo start|--damon_addr_unit"|"damo start|--refresh_stat"|"damo start|--probe_filter"|"damo start|--probe_weight"|"damo start|--probe_prep"|"damo start|--pause_ctx"|"damo start|--obsolete_targets"|"damo start|--damos_sz_region"|"damo start|--damos_access_rate"|"damo start|--damos_age"|"damo start|--damos_apply_interval"|"damo start|--damos_quotas"|"damo start|--damos_quota_interval"|"damo start|--damos_quota_time"|"damo start|--damos_quota_space"|"damo start|--damos_quota_weights"|"damo start|--damos_quota_fail_charge_ratio"|"damo start|--damos_nr_quota_goals"|"damo start|--damos_nr_filters"|"damo start|--damos_max_nr_snapshots"|"damo start|--memory"|"damo start|--sequential_access_rate"|"damo start|--random_access_rate"|"damo start|--seed"|"damo start|--preset_param"|"damo start|--speed"|"damo status|--kdamond_idx"|"damo stop|--kdamond_idx"|"damo sweep|--param"|"damo sweep|--memory"|"damo sweep|--seed"|"damo sweep|--sequential_access_rate"|"damo sweep|--random_access_rate"|"damo sweep|--timeout"|"damo sweep|-j"|"damo sweep|--jobs"|"damo sweep|--scheduler"|"damo sweep|--size"|"damo tune|--target_pid"|"damo tune|-r"|"damo tune|--regions"|"damo tune|--numa_node"|"damo tune|--monitoring_intervals"|"damo tune|--monitoring_intervals_goal"|"damo tune|--monitoring_nr_regions_range"|"damo tune|--damon_addr_unit"|"damo tune|--refresh_stat"|"damo tune|--probe_filter"|"damo tune|--probe_weight"|"damo tune|--probe_prep"|"damo tune|--pause_ctx"|"damo tune|--obsolete_targets"|"damo tune|--damos_sz_region"|"damo tune|--damos_access_rate"|"damo tune|--damos_age"|"damo tune|--damos_apply_interval"|"damo tune|--damos_quotas"|"damo tune|--damos_quota_interval"|"damo tune|--damos_quota_time"|"damo tune|--damos_quota_space"|"damo tune|--damos_quota_weights"|"damo tune|--damos_quota_fail_charge_ratio"|"damo tune|--damos_nr_quota_goals"|"damo tune|--damos_nr_filters"|"damo tune|--damos_max_nr_snapshots"|"damo tune|--kdamond_idx"|"damo tune|--speed"|"damo validate|--aggr"|"damo validate|--nr_regions"|"damo validate|--nr_accesses"|"damo validate|--allow_error"|"damo validate|--regions_boundary")
            return 0 ;;
    esac
    if [[ -n "$subs" ]]; then
        COMPREPLY=( $(compgen -W "$subs" -- "$cur") )
        return 0
    fi
    COMPREPLY=( $(compgen -W "$words" -- "$cur") )
    if [[ -n "$files" ]]; then
        IFS=$'\n'
        COMPREPLY+=( $(compgen -f -- "$cur") )
        compopt -o filenames 2>/dev/null
    fi
    return 0
}

complete -F _damo_completion damo
