"""Helpers that only lessons use: experiments, benchmarks and practice worlds.

None of this is production code to lift into a service; it sets up what a lesson measures.
No production package imports it.

* :mod:`~course_lib.labs.reliability`: many model calls under a policy, and what they cost
  (lesson 1.1);
* :mod:`~course_lib.labs.embedding_benchmark`: retrievers compared on quality, size, latency
  and throughput (lesson 1.3);
* :mod:`~course_lib.labs.agent_world` and :mod:`~course_lib.labs.agent_tasks`: the agent's
  practice world over fake company data, and a suite of tool-use tasks (lesson 1.5);
* :mod:`~course_lib.labs.baselines`: the datasheet's retrieval baselines on the golden set;
* :mod:`~course_lib.labs.chunking_lab`: chunkings of the handbook measured on the golden
  questions, and the chunk-size sweep (lesson 2.1);
* :mod:`~course_lib.labs.retrieval_lab`: the tutorial's in-memory vector store, and the
  leaks, recall and answer measurements that lesson 2.2 compares it on;
* :mod:`~course_lib.labs.orchestration_lab`: processes that crash on cue, an outbox, an
  endpoint with planted faults and latency, and the crash, resume and fault measurements of
  lesson 2.3;
* :mod:`~course_lib.labs.prompt_versioning_lab`: prompt versions answered and scored on the
  golden set's passages, the probes and the gate's figure (lesson 2.4);
* :mod:`~course_lib.labs.observability_lab`: questions carrying personal data, span
  attributes side by side, the week's anomalies as a figure, a canary week and a version's
  share over time, a finding scored (lesson 2.5);
* :mod:`~course_lib.labs.dataset_lab` and :mod:`~course_lib.labs.dvc_lab`: a service-desk
  export, a colleague's in-place edits with planted leaks and bad rows, the two routers'
  figures, a leak detector's gap and reference, and DVC driven in a throwaway repository
  (lesson 2.6);
* :mod:`~course_lib.labs.guardrails_lab`: the attack suite, the assistant and agent under
  attack with and without guards, and the false blocks on golden questions (lesson 2.7);
* :mod:`~course_lib.labs.scratch_repo`: a throwaway git repository in the work directory, on a
  fixed clock, where Layer 3's lessons run git and its tools;
* :mod:`~course_lib.labs.version_control_lab`: the tutorial's project committed whole, its
  notebook re-run, diffs and clones measured, ``.gitignore`` rules checked with
  ``git check-ignore`` (lesson 3.1);
* :mod:`~course_lib.labs.structure_lab`: the Handbook Assistant as a one-cell prototype and as
  a src-layout package, import side effects counted, and ``lint-imports`` on tangled copies
  (lesson 3.2);
* :mod:`~course_lib.labs.configuration_lab`: the Handbook Assistant's constants, its layered
  settings per environment, readable start-up errors and a configuration fingerprint
  (lesson 3.3);
* :mod:`~course_lib.labs.testing_lab`: a naive and a correct chunker and reply parser, a fake
  provider, cosmic-ray in a throwaway repository, golden files and sampled acceptance tests
  (lesson 3.4);
* :mod:`~course_lib.labs.cicd_lab`: a pipeline's repository, workflow and gate, candidate
  changes with a known truth, and a content-addressed artifact store with rollback (lesson 3.5);
* :mod:`~course_lib.labs.secrets_lab`: fake provider keys, a repository that leaked one,
  detect-secrets on its tree and history, leak channels, log lines to redact and a file
  keyring (lesson 3.6);
* :mod:`~course_lib.labs.dependencies_lab`: a fake package ecosystem as a folder of wheels,
  two lockers run offline, throwaway environments, drift cases and deptry (lesson 3.7).
* :mod:`~course_lib.labs.compute_lab`: price assumptions, the cost figure and widget, load
  generators for the local server and the pool-sizing score (lesson 4.1).
* :mod:`~course_lib.labs.pipeline_lab`: a handbook source folder, seeded drops of good and bad
  files, the tutorial's ingest script, event streams with crashes on cue, and a reader's view
  of two rebuilds (lesson 4.3).
* :mod:`~course_lib.labs.storage_lab`: the tutorial's folder-and-CSV storage, evaluation runs
  to store, and the week of traffic replayed through exact and semantic caches, with each
  request's pool question to count false hits (lesson 4.2).
* :mod:`~course_lib.labs.queue_lab`: a ticket triage with planted provider faults, the
  tutorial's huey task, a producer against a bounded queue, a retry storm in virtual time and
  the 1,000-job crash run (lesson 4.4).

Importing this package is cheap: each name loads its module on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from course_lib._lazy import lazy_exports

if TYPE_CHECKING:
    from course_lib.labs.agent_tasks import (
        OUTCOMES as OUTCOMES,
        TASKS as TASKS,
        TUTORIAL_SCHEMAS as TUTORIAL_SCHEMAS,
        AgentTask as AgentTask,
        CallCapReachedError as CallCapReachedError,
        CappedClient as CappedClient,
        Check as Check,
        all_of as all_of,
        mentions as mentions,
        opened_ticket as opened_ticket,
        paged_nobody as paged_nobody,
        run_suite as run_suite,
    )
    from course_lib.labs.agent_world import (
        CURRENCIES as CURRENCIES,
        PARCELS as PARCELS,
        READ_ONLY_TOOLS as READ_ONLY_TOOLS,
        SERVICES as SERVICES,
        TICKET_CATEGORIES as TICKET_CATEGORIES,
        HandbookWorld as HandbookWorld,
        Page as Page,
        Ticket as Ticket,
    )
    from course_lib.labs.baselines import (
        DATASHEET as DATASHEET,
        DEPTH as DEPTH,
        END_MARKER as END_MARKER,
        METHODS as METHODS,
        START_MARKER as START_MARKER,
        K as K,
        RetrievalUnit as RetrievalUnit,
        baseline_table as baseline_table,
        bm25_rankings as bm25_rankings,
        datasheet_table as datasheet_table,
        dense_rankings as dense_rankings,
        rankings as rankings,
        retrieval_baselines as retrieval_baselines,
        retrieval_units as retrieval_units,
        write_table as write_table,
    )
    from course_lib.labs.chunking_lab import (
        CONTEXT_BUDGET as CONTEXT_BUDGET,
        COVERAGE as COVERAGE,
        EMBED_LIMIT as EMBED_LIMIT,
        QUALITY_MARGIN as QUALITY_MARGIN,
        ChunkerScore as ChunkerScore,
        Passage as Passage,
        character_windows as character_windows,
        chunker_shortfall as chunker_shortfall,
        chunks_from_word_windows as chunks_from_word_windows,
        edit_document as edit_document,
        embedded_texts as embedded_texts,
        evaluate_chunks as evaluate_chunks,
        plot_chunk_size_sweep as plot_chunk_size_sweep,
        prototype_passages as prototype_passages,
        prototype_scores as prototype_scores,
        score_chunker as score_chunker,
        sweep_chunk_sizes as sweep_chunk_sizes,
        word_coverage as word_coverage,
    )
    from course_lib.labs.cicd_lab import (
        BROKEN_WORKFLOW as BROKEN_WORKFLOW,
        GATE_COMMAND as GATE_COMMAND,
        GATE_JOB as GATE_JOB,
        PIPELINE_STAGES as PIPELINE_STAGES,
        TUTORIAL_WORKFLOW as TUTORIAL_WORKFLOW,
        ArtifactError as ArtifactError,
        ArtifactStore as ArtifactStore,
        AssistantConfig as AssistantConfig,
        CandidateChange as CandidateChange,
        GateRule as GateRule,
        actionlint_report as actionlint_report,
        candidate_changes as candidate_changes,
        cicd_index as cicd_index,
        evaluate_config as evaluate_config,
        gate_errors as gate_errors,
        naive_gate as naive_gate,
        outcomes_file as outcomes_file,
        pipeline_repo_files as pipeline_repo_files,
        workflow_problems as workflow_problems,
    )
    from course_lib.labs.compute_lab import (
        ASSUMPTIONS as ASSUMPTIONS,
        GROWTH as GROWTH,
        SERVICE_TIME_S as SERVICE_TIME_S,
        TARGET_S as TARGET_S,
        assumptions_table as assumptions_table,
        batch_throughput as batch_throughput,
        compute_options as compute_options,
        cost_figure as cost_figure,
        cost_table as cost_table,
        cost_widget as cost_widget,
        fewest_slots as fewest_slots,
        handbook_workload as handbook_workload,
        hourly_rates as hourly_rates,
        load_curve_figure as load_curve_figure,
        open_loop as open_loop,
        pool_latency as pool_latency,
        pool_report as pool_report,
        replay_burst as replay_burst,
        run_requests as run_requests,
        simulate_schedule as simulate_schedule,
    )
    from course_lib.labs.configuration_lab import (
        BAD_CONFIGS as BAD_CONFIGS,
        ENVIRONMENTS as ENVIRONMENTS,
        FINGERPRINT_PAIRS as FINGERPRINT_PAIRS,
        HANDBOOK_PREFIX as HANDBOOK_PREFIX,
        PROTOTYPE_CONSTANTS as PROTOTYPE_CONSTANTS,
        SETTING_RULES as SETTING_RULES,
        BadConfig as BadConfig,
        EvaluationCache as EvaluationCache,
        HandbookSettings as HandbookSettings,
        config_fingerprint as config_fingerprint,
        demo_key as demo_key,
        environment_files as environment_files,
        explain_error as explain_error,
        load_handbook_settings as load_handbook_settings,
        prototype_files as prototype_files,
        provenance_table as provenance_table,
        run_prototype as run_prototype,
        setting_sources as setting_sources,
        settings_from as settings_from,
        startup_table as startup_table,
    )
    from course_lib.labs.dataset_lab import (
        CALIBRATION_SEED as CALIBRATION_SEED,
        EXPORT_COLUMNS as EXPORT_COLUMNS,
        HELDOUT_SEED as HELDOUT_SEED,
        LEAK_TARGETS as LEAK_TARGETS,
        CleaningDay as CleaningDay,
        LeakScore as LeakScore,
        RouterScore as RouterScore,
        calibration_similarities as calibration_similarities,
        cleaning_day as cleaning_day,
        evaluate_routers as evaluate_routers,
        leak_gap as leak_gap,
        leak_pairs as leak_pairs,
        leak_score as leak_score,
        plant_leaks as plant_leaks,
        plot_calibration as plot_calibration,
        reference_flag_leaks as reference_flag_leaks,
        service_desk_export as service_desk_export,
        split_files as split_files,
        ticket_schema as ticket_schema,
    )
    from course_lib.labs.dependencies_lab import (
        ADVISORIES as ADVISORIES,
        APP_CODE as APP_CODE,
        LESSON_ENVIRONMENT as LESSON_ENVIRONMENT,
        VISIBLE_DRIFT_CASES as VISIBLE_DRIFT_CASES,
        DependencyLabError as DependencyLabError,
        DriftCase as DriftCase,
        build_index as build_index,
        deptry_findings as deptry_findings,
        environment_fingerprint as environment_fingerprint,
        install_into as install_into,
        installed_versions as installed_versions,
        judge_ranges as judge_ranges,
        lock as lock,
        lock_pins as lock_pins,
        make_venv as make_venv,
        scratch_pyproject as scratch_pyproject,
        smoke_test as smoke_test,
        tamper_wheel as tamper_wheel,
        wheel_sizes as wheel_sizes,
    )
    from course_lib.labs.dvc_lab import (
        COMMIT_EPOCH as COMMIT_EPOCH,
        DvcCommandError as DvcCommandError,
        DvcRepo as DvcRepo,
        DvcStep as DvcStep,
        file_md5 as file_md5,
    )
    from course_lib.labs.embedding_benchmark import (
        DEFAULT_BATCH_SIZES as DEFAULT_BATCH_SIZES,
        BM25Retriever as BM25Retriever,
        EmbeddingRetriever as EmbeddingRetriever,
        IndexFootprint as IndexFootprint,
        LatencySummary as LatencySummary,
        Retriever as Retriever,
        compare_throughput as compare_throughput,
        comparison_table as comparison_table,
        declared_licence as declared_licence,
        evaluate_retriever as evaluate_retriever,
        latency_table as latency_table,
        measure_latency as measure_latency,
        measure_throughput as measure_throughput,
        plot_throughput as plot_throughput,
    )
    from course_lib.labs.guardrails_lab import (
        AGENT_SYSTEM as AGENT_SYSTEM,
        AGENT_SYSTEM_GUARDED as AGENT_SYSTEM_GUARDED,
        ATTACK_SUITE as ATTACK_SUITE,
        LESSON_USER as LESSON_USER,
        PLANTED as PLANTED,
        PRODUCTION_POLICY as PRODUCTION_POLICY,
        Defences as Defences,
        SecurityWorld as SecurityWorld,
        TextGuard as TextGuard,
        as_guard as as_guard,
        ask_assistant as ask_assistant,
        assistant_prompt as assistant_prompt,
        attack_matrix as attack_matrix,
        false_blocks as false_blocks,
        handbook_contacts as handbook_contacts,
        handbook_section as handbook_section,
        load_attacks as load_attacks,
        ordinary_questions as ordinary_questions,
        owasp_map as owasp_map,
        plot_attack_success as plot_attack_success,
        run_agent_task as run_agent_task,
        run_attack as run_attack,
        steady_client as steady_client,
        summarise_attacks as summarise_attacks,
    )
    from course_lib.labs.observability_lab import (
        PERSONAL_DATA_QUESTIONS as PERSONAL_DATA_QUESTIONS,
        add_canary as add_canary,
        canary_week as canary_week,
        compare_span_attributes as compare_span_attributes,
        plot_version_share as plot_version_share,
        plot_week as plot_week,
        score_finding as score_finding,
    )
    from course_lib.labs.orchestration_lab import (
        CALL_BUDGET as CALL_BUDGET,
        FAULT_MIX as FAULT_MIX,
        FAULT_RATE as FAULT_RATE,
        HANG_S as HANG_S,
        RETRY_AFTER_S as RETRY_AFTER_S,
        SLA_S as SLA_S,
        SLA_SHARE as SLA_SHARE,
        TUNING_QUESTIONS as TUNING_QUESTIONS,
        TUNING_SEEDS as TUNING_SEEDS,
        LatencyPlan as LatencyPlan,
        LessonProcess as LessonProcess,
        Outbox as Outbox,
        OutboxMessage as OutboxMessage,
        PolicyReport as PolicyReport,
        SimulatedCrash as SimulatedCrash,
        crash_summary as crash_summary,
        delivery_scenario as delivery_scenario,
        describe_endpoint as describe_endpoint,
        fault_plan as fault_plan,
        langgraph_sync_timeout_error as langgraph_sync_timeout_error,
        lesson_batch as lesson_batch,
        measure_policy as measure_policy,
        orchestration_file as orchestration_file,
        orchestration_index as orchestration_index,
    )
    from course_lib.labs.pipeline_lab import (
        BAD_KINDS as BAD_KINDS,
        DROP_PAGES as DROP_PAGES,
        TUNING_DROP_SEED as TUNING_DROP_SEED,
        CrashingEmbedder as CrashingEmbedder,
        Drop as Drop,
        ProcessDied as ProcessDied,
        PrototypeRun as PrototypeRun,
        RulesScore as RulesScore,
        consume_checkpoint_first as consume_checkpoint_first,
        copy_handbook as copy_handbook,
        crash_and_restart as crash_and_restart,
        document_events as document_events,
        drop_records as drop_records,
        expected_documents as expected_documents,
        handbook_teams as handbook_teams,
        plot_reader_views as plot_reader_views,
        prototype_ingest as prototype_ingest,
        prototype_verdicts as prototype_verdicts,
        reader_views as reader_views,
        score_rules as score_rules,
        stream_outcome as stream_outcome,
        write_drop as write_drop,
    )
    from course_lib.labs.prompt_versioning_lab import (
        INJECTED_QUESTION as INJECTED_QUESTION,
        RUN_METRICS as RUN_METRICS,
        GoldenContext as GoldenContext,
        MessagesFor as MessagesFor,
        answer_golden as answer_golden,
        compare_runs_on as compare_runs_on,
        golden_contexts as golden_contexts,
        prompt_probes as prompt_probes,
        run_table as run_table,
        score_answer as score_answer,
        try_system_prompt as try_system_prompt,
        versioning_index as versioning_index,
        versioning_library as versioning_library,
    )
    from course_lib.labs.queue_lab import (
        OUTAGE_TARGETS as OUTAGE_TARGETS,
        CrashRun as CrashRun,
        OutageScore as OutageScore,
        ProviderError as ProviderError,
        backlog_run as backlog_run,
        crash_run as crash_run,
        drain as drain,
        outage_run as outage_run,
        outbox_counts as outbox_counts,
        planted_fault as planted_fault,
        plot_backlog as plot_backlog,
        plot_retry_times as plot_retry_times,
        prototype_huey as prototype_huey,
        quick_route as quick_route,
        quiet_queue_logs as quiet_queue_logs,
        reset_outbox as reset_outbox,
        start_prototype_worker as start_prototype_worker,
        ticket_payloads as ticket_payloads,
        triage_job as triage_job,
        triage_ticket as triage_ticket,
        wait_until as wait_until,
    )
    from course_lib.labs.reliability import (
        CALL_COLUMNS as CALL_COLUMNS,
        handbook_prompts as handbook_prompts,
        outcome_summary as outcome_summary,
        price_table as price_table,
        run_calls as run_calls,
        simulate_success_rate as simulate_success_rate,
    )
    from course_lib.labs.retrieval_lab import (
        SUPPORT_THRESHOLD as SUPPORT_THRESHOLD,
        PrototypeStore as PrototypeStore,
        citation_support as citation_support,
        cited_doc_ids as cited_doc_ids,
        leaking_queries as leaking_queries,
        lesson_index as lesson_index,
        prototype_answer as prototype_answer,
        repeated_documents as repeated_documents,
        retrieval_recall as retrieval_recall,
        score_answers as score_answers,
    )
    from course_lib.labs.scratch_repo import (
        SCRATCH_AUTHOR as SCRATCH_AUTHOR,
        SCRATCH_EPOCH as SCRATCH_EPOCH,
        ScratchRepo as ScratchRepo,
        ScratchRepoError as ScratchRepoError,
        ScratchStep as ScratchStep,
        course_repository as course_repository,
        require_git as require_git,
    )
    from course_lib.labs.secrets_lab import (
        KEY_KINDS as KEY_KINDS,
        KEY_VARIABLE as KEY_VARIABLE,
        KEYRING_SERVICE as KEYRING_SERVICE,
        KEYRING_USER as KEYRING_USER,
        LogLine as LogLine,
        RedactionScore as RedactionScore,
        clone_of as clone_of,
        fake_key as fake_key,
        file_keyring as file_keyring,
        install_scan_hook as install_scan_hook,
        leak_channels as leak_channels,
        leaky_repo as leaky_repo,
        log_lines as log_lines,
        scan_history as scan_history,
        scan_text as scan_text,
        scan_tree as scan_tree,
        score_redactor as score_redactor,
        shown as shown,
        write_baseline as write_baseline,
    )
    from course_lib.labs.storage_lab import (
        CACHED_FEATURE as CACHED_FEATURE,
        EVALUATION_METHODS as EVALUATION_METHODS,
        EVALUATION_SCHEMA as EVALUATION_SCHEMA,
        FALSE_HIT_LIMIT as FALSE_HIT_LIMIT,
        GUARD_FALSE_LIMIT as GUARD_FALSE_LIMIT,
        GUARD_MARGIN as GUARD_MARGIN,
        HELD_OUT_DAYS as HELD_OUT_DAYS,
        LESSON_PHRASINGS as LESSON_PHRASINGS,
        PROMPT_TEXT as PROMPT_TEXT,
        THRESHOLDS as THRESHOLDS,
        TUNING_DAYS as TUNING_DAYS,
        CacheReplay as CacheReplay,
        GuardReport as GuardReport,
        ReplayClock as ReplayClock,
        StorageLabError as StorageLabError,
        cache_requests as cache_requests,
        content_words as content_words,
        evaluation_run as evaluation_run,
        exact_hits as exact_hits,
        guard_hits as guard_hits,
        guard_report as guard_report,
        nearest_earlier as nearest_earlier,
        plot_threshold_sweep as plot_threshold_sweep,
        pool_question as pool_question,
        prototype_save_run as prototype_save_run,
        rephrased_pairs as rephrased_pairs,
        replay_through_caches as replay_through_caches,
        sweep_thresholds as sweep_thresholds,
        variant_examples as variant_examples,
    )
    from course_lib.labs.structure_lab import (
        SCRATCH_PACKAGE as SCRATCH_PACKAGE,
        VISIBLE_TANGLES as VISIBLE_TANGLES,
        ContractTrial as ContractTrial,
        LintReport as LintReport,
        PytestSummary as PytestSummary,
        SideEffects as SideEffects,
        Tangle as Tangle,
        checkout_without_data as checkout_without_data,
        contract_names as contract_names,
        copy_lesson_data as copy_lesson_data,
        course_structure as course_structure,
        import_side_effects as import_side_effects,
        install_wheel as install_wheel,
        lint_imports as lint_imports,
        package_files as package_files,
        prototype_repo_files as prototype_repo_files,
        pytest_summary as pytest_summary,
        structure_tree as structure_tree,
        try_contracts as try_contracts,
    )
    from course_lib.labs.testing_lab import (
        EXAMPLE_TESTS as EXAMPLE_TESTS,
        MUTATED_OPERATORS_EXCLUDED as MUTATED_OPERATORS_EXCLUDED,
        FakeChatClient as FakeChatClient,
        Snapshot as Snapshot,
        TestingLabError as TestingLabError,
        acceptance_rates as acceptance_rates,
        answer_question as answer_question,
        catches as catches,
        check_snapshot as check_snapshot,
        chunk_words as chunk_words,
        course_test_kinds as course_test_kinds,
        false_alarm_table as false_alarm_table,
        keep_hypothesis_in_work_dir as keep_hypothesis_in_work_dir,
        lesson_key as lesson_key,
        minimal_failure as minimal_failure,
        mutation_outcomes as mutation_outcomes,
        mutation_repo as mutation_repo,
        naive_chunk_words as naive_chunk_words,
        naive_parse_reply as naive_parse_reply,
        parse_reply as parse_reply,
        plot_false_alarms as plot_false_alarms,
        plot_test_pyramid as plot_test_pyramid,
        redact as redact,
        reopen_survivors as reopen_survivors,
        run_mutants as run_mutants,
        visible_buggy_chunkers as visible_buggy_chunkers,
    )
    from course_lib.labs.version_control_lab import (
        KEEP_IN as KEEP_IN,
        KEEP_OUT as KEEP_OUT,
        MANIFEST_KEYS as MANIFEST_KEYS,
        TUTORIAL_MODEL as TUTORIAL_MODEL,
        TUTORIAL_NOTEBOOK as TUTORIAL_NOTEBOOK,
        DiffSize as DiffSize,
        IgnoreReport as IgnoreReport,
        VersionControlLabError as VersionControlLabError,
        clone_objects_size as clone_objects_size,
        diff_size as diff_size,
        explore_notebook as explore_notebook,
        ignore_report as ignore_report,
        ignored_paths as ignored_paths,
        mask_value as mask_value,
        merge as merge,
        nbdime_diff as nbdime_diff,
        notebook_diffs as notebook_diffs,
        pair_script as pair_script,
        parse_manifest as parse_manifest,
        save_notebook as save_notebook,
        sha256_bytes as sha256_bytes,
        tutorial_project as tutorial_project,
        write_project_files as write_project_files,
    )

# Each module and the names it exports; a name's module loads the first time it is used.
_MODULES = {
    "agent_tasks": """
        OUTCOMES TASKS TUTORIAL_SCHEMAS AgentTask CallCapReachedError CappedClient Check
        all_of mentions opened_ticket paged_nobody run_suite
    """,
    "agent_world": """
        CURRENCIES PARCELS READ_ONLY_TOOLS SERVICES TICKET_CATEGORIES HandbookWorld Page
        Ticket
    """,
    "baselines": """
        DATASHEET DEPTH END_MARKER K METHODS START_MARKER RetrievalUnit baseline_table
        bm25_rankings datasheet_table dense_rankings rankings retrieval_baselines
        retrieval_units write_table
    """,
    "chunking_lab": """
        CONTEXT_BUDGET COVERAGE EMBED_LIMIT QUALITY_MARGIN ChunkerScore Passage
        character_windows chunker_shortfall chunks_from_word_windows edit_document
        embedded_texts evaluate_chunks plot_chunk_size_sweep prototype_passages
        prototype_scores score_chunker sweep_chunk_sizes word_coverage
    """,
    "cicd_lab": """
        BROKEN_WORKFLOW GATE_COMMAND GATE_JOB PIPELINE_STAGES TUTORIAL_WORKFLOW
        ArtifactError ArtifactStore AssistantConfig CandidateChange GateRule actionlint_report
        candidate_changes cicd_index evaluate_config gate_errors naive_gate
        outcomes_file pipeline_repo_files workflow_problems
    """,
    "compute_lab": """
        ASSUMPTIONS GROWTH SERVICE_TIME_S TARGET_S assumptions_table batch_throughput
        compute_options cost_figure cost_table cost_widget fewest_slots handbook_workload
        hourly_rates load_curve_figure open_loop pool_latency pool_report replay_burst
        run_requests simulate_schedule
    """,
    "configuration_lab": """
        BAD_CONFIGS ENVIRONMENTS FINGERPRINT_PAIRS HANDBOOK_PREFIX
        PROTOTYPE_CONSTANTS SETTING_RULES BadConfig EvaluationCache HandbookSettings
        config_fingerprint demo_key environment_files explain_error load_handbook_settings
        prototype_files provenance_table run_prototype setting_sources settings_from
        startup_table
    """,
    "dataset_lab": """
        CALIBRATION_SEED EXPORT_COLUMNS HELDOUT_SEED LEAK_TARGETS CleaningDay LeakScore
        RouterScore calibration_similarities cleaning_day evaluate_routers leak_gap leak_pairs
        leak_score plant_leaks plot_calibration reference_flag_leaks service_desk_export
        split_files ticket_schema
    """,
    "dependencies_lab": """
        ADVISORIES APP_CODE LESSON_ENVIRONMENT VISIBLE_DRIFT_CASES DependencyLabError
        DriftCase build_index deptry_findings environment_fingerprint install_into
        installed_versions judge_ranges lock lock_pins make_venv scratch_pyproject smoke_test
        tamper_wheel wheel_sizes
    """,
    "dvc_lab": """
        COMMIT_EPOCH DvcCommandError DvcRepo DvcStep file_md5
    """,
    "embedding_benchmark": """
        DEFAULT_BATCH_SIZES BM25Retriever EmbeddingRetriever IndexFootprint LatencySummary
        Retriever compare_throughput comparison_table declared_licence evaluate_retriever
        latency_table measure_latency measure_throughput plot_throughput
    """,
    "guardrails_lab": """
        AGENT_SYSTEM AGENT_SYSTEM_GUARDED ATTACK_SUITE LESSON_USER PLANTED PRODUCTION_POLICY
        Defences SecurityWorld TextGuard as_guard ask_assistant assistant_prompt attack_matrix
        false_blocks handbook_contacts handbook_section load_attacks ordinary_questions
        owasp_map plot_attack_success run_agent_task run_attack steady_client
        summarise_attacks
    """,
    "observability_lab": """
        PERSONAL_DATA_QUESTIONS add_canary canary_week compare_span_attributes
        plot_version_share plot_week score_finding
    """,
    "orchestration_lab": """
        CALL_BUDGET FAULT_MIX FAULT_RATE HANG_S RETRY_AFTER_S SLA_S SLA_SHARE TUNING_QUESTIONS
        TUNING_SEEDS LatencyPlan LessonProcess Outbox OutboxMessage PolicyReport
        SimulatedCrash crash_summary delivery_scenario describe_endpoint fault_plan
        langgraph_sync_timeout_error lesson_batch measure_policy orchestration_file
        orchestration_index
    """,
    "pipeline_lab": """
        BAD_KINDS DROP_PAGES TUNING_DROP_SEED CrashingEmbedder Drop ProcessDied PrototypeRun
        RulesScore consume_checkpoint_first copy_handbook crash_and_restart document_events
        drop_records expected_documents
        handbook_teams plot_reader_views prototype_ingest prototype_verdicts reader_views
        score_rules stream_outcome write_drop
    """,
    "prompt_versioning_lab": """
        INJECTED_QUESTION RUN_METRICS GoldenContext MessagesFor answer_golden compare_runs_on
        golden_contexts prompt_probes run_table score_answer try_system_prompt
        versioning_index versioning_library
    """,
    "queue_lab": """
        CrashRun OUTAGE_TARGETS OutageScore ProviderError backlog_run crash_run drain outage_run
        outbox_counts planted_fault plot_backlog plot_retry_times prototype_huey quick_route
        quiet_queue_logs reset_outbox start_prototype_worker ticket_payloads triage_job
        triage_ticket wait_until
    """,
    "reliability": """
        CALL_COLUMNS handbook_prompts outcome_summary price_table run_calls
        simulate_success_rate
    """,
    "retrieval_lab": """
        SUPPORT_THRESHOLD PrototypeStore citation_support cited_doc_ids leaking_queries
        lesson_index prototype_answer repeated_documents retrieval_recall score_answers
    """,
    "scratch_repo": """
        SCRATCH_AUTHOR SCRATCH_EPOCH ScratchRepo ScratchRepoError ScratchStep
        course_repository require_git
    """,
    "secrets_lab": """
        KEYRING_SERVICE KEYRING_USER KEY_KINDS KEY_VARIABLE LogLine RedactionScore clone_of
        fake_key file_keyring install_scan_hook leak_channels leaky_repo log_lines
        scan_history scan_text scan_tree score_redactor shown write_baseline
    """,
    "storage_lab": """
        CACHED_FEATURE EVALUATION_METHODS EVALUATION_SCHEMA FALSE_HIT_LIMIT GUARD_FALSE_LIMIT
        GUARD_MARGIN HELD_OUT_DAYS PROMPT_TEXT THRESHOLDS TUNING_DAYS CacheReplay GuardReport
        ReplayClock StorageLabError cache_requests evaluation_run exact_hits guard_hits
        guard_report nearest_earlier plot_threshold_sweep
        pool_question prototype_save_run replay_through_caches sweep_thresholds
        variant_examples LESSON_PHRASINGS content_words rephrased_pairs
    """,
    "structure_lab": """
        SCRATCH_PACKAGE VISIBLE_TANGLES ContractTrial LintReport PytestSummary
        SideEffects Tangle checkout_without_data contract_names copy_lesson_data
        course_structure import_side_effects install_wheel lint_imports package_files
        prototype_repo_files pytest_summary structure_tree try_contracts
    """,
    "testing_lab": """
        EXAMPLE_TESTS MUTATED_OPERATORS_EXCLUDED FakeChatClient Snapshot
        TestingLabError acceptance_rates answer_question catches check_snapshot chunk_words
        course_test_kinds false_alarm_table keep_hypothesis_in_work_dir lesson_key
        minimal_failure mutation_outcomes mutation_repo naive_chunk_words naive_parse_reply
        parse_reply plot_false_alarms plot_test_pyramid redact reopen_survivors run_mutants
        visible_buggy_chunkers
    """,
    "version_control_lab": """
        KEEP_IN KEEP_OUT MANIFEST_KEYS TUTORIAL_MODEL TUTORIAL_NOTEBOOK DiffSize IgnoreReport
        VersionControlLabError clone_objects_size diff_size explore_notebook ignore_report
        ignored_paths mask_value merge nbdime_diff notebook_diffs pair_script parse_manifest
        save_notebook sha256_bytes tutorial_project write_project_files
    """,
}
_EXPORTS = {
    name: f"course_lib.labs.{module}"
    for module, names in _MODULES.items()
    for name in names.split()
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
