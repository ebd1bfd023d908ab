"""Helpers that only lessons use: experiments, benchmarks and practice worlds.

None of this is production code to lift into a service; it sets up what a lesson measures.
No production package imports it.

* :mod:`~course_lib.labs.reliability`: many model calls under a policy, and what they cost
  (lesson 1.1); :mod:`~course_lib.labs.retry_lab`: a retry storm under full and added-on
  jitter, and a policy tried against planted faults on a modelled clock (lesson 1.1);
* :mod:`~course_lib.labs.structured_lab`: failure kinds, repair costs, and triage policies run
  without strict mode on a bad day and on tickets the lesson never shows (lesson 1.2);
* :mod:`~course_lib.labs.embedding_benchmark`: retrievers compared on quality, size and
  latency (lesson 1.3);
* :mod:`~course_lib.labs.hybrid_lab`: a hybrid of BM25 and an embedder, a sealed golden set
  for checking it on the test split, and the figures that reconcile 1.3 with 1.4 (lesson 1.3);
* :mod:`~course_lib.labs.prompt_lab` and :mod:`~course_lib.labs.judge_lab`: the assistant
  lesson 1.4 evaluates, a prompt's paired trial against the naive one, and a judge measured
  on easy and hard wrong answers and in both orders (lesson 1.4);
* :mod:`~course_lib.labs.agent_world` and :mod:`~course_lib.labs.agent_tasks`: the agent's
  practice world over fake company data, and a suite of tool-use tasks (lesson 1.5);
  :mod:`~course_lib.labs.agent_budgets` and :mod:`~course_lib.labs.agent_figures`: the suite
  over many seeds, budgets scored on held-out tasks, and the lesson's figures (lesson 1.5);
  :mod:`~course_lib.labs.agent_caching`: what prompt caching saves on the agent loop;
* :mod:`~course_lib.labs.baselines`: the datasheet's retrieval baselines on the golden set;
* :mod:`~course_lib.labs.chunking_lab`: chunkings of the handbook measured on the golden
  questions, and the chunk-size sweep (lesson 2.1);
* :mod:`~course_lib.labs.routing_lab`: ticket-router plans priced whole, model calls, labels
  and tickets handed to a person (lesson 1.6);
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
* :mod:`~course_lib.labs.multimodal_lab` and :mod:`~course_lib.labs.upload_lab`: images with
  text drawn on them, handbook pages as PDFs in three layouts, and a seeded suite of good and
  bad uploads (lesson 1.7).
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
    from course_lib.labs._static import *  # noqa: F403

_MODULES = {
    "agent_budgets": """
        ASSISTANT_TOOLS BUDGET_KEYS BUDGET_TARGET DEV_SEEDS GENEROUS HELD_OUT_SEEDS BudgetReport
        BudgetTarget budget_report compare_success production_solver run_seeds run_with_budgets
        time_limited run_loops
    """,
    "agent_caching": """
        VirtualClock caching_saving
    """,
    "agent_figures": """
        lost_and_gained outcome_counts plot_outcomes plot_runaway success_by_kind success_table
    """,
    "agent_tasks": """
        HELD_OUT_TASKS OUTCOMES TASKS TUTORIAL_SCHEMAS AgentTask CallCapReachedError
        CappedClient Check ShowsEveryTool all_of mentions opened_ticket paged_nobody run_suite
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
        BM25Retriever EmbeddingRetriever IndexFootprint LatencySummary
        Retriever comparison_table declared_licence evaluate_retriever
        latency_table measure_latency
    """,
    "judge_lab": """
        CALIBRATION_KINDS agreement_by_kind calibration_set clean_quote near_miss position_bias
    """,
    "prompt_lab": """
        CAREFUL_PROMPT NAIVE_PROMPT HandbookAssistant PromptTrial fact_score trial_prompt
    """,
    "hybrid_lab": """
        HYBRID_TARGET GoldenSetSealedError HybridRetriever miss_report optional_transformer
        recall_at_5 recall_counted_two_ways sealed_golden_set shared_terms
    """,
    "guardrails_lab": """
        AGENT_SYSTEM AGENT_SYSTEM_GUARDED ATTACK_SUITE LESSON_USER PLANTED PRODUCTION_POLICY
        Defences SecurityWorld TextGuard as_guard ask_assistant assistant_prompt attack_matrix
        false_blocks handbook_contacts handbook_section load_attacks ordinary_questions
        owasp_map plot_attack_success run_agent_task run_attack steady_client
        summarise_attacks
    """,
    "multimodal_lab": """
        LESSON_IMAGES PDF_LAYOUTS HandbookPdf LessonImage budget_images
        extracted_documents handbook_pdfs image_cost_table lesson_image pdf_questions
        pdf_retrieval_recall plain_text plot_image_tokens png_bytes quote_recovery shrink_report
        text_image
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
        CALL_COLUMNS handbook_prompts outcome_summary price_table registry_with_roles run_calls
        simulate_success_rate
    """,
    "retry_lab": """
        TRIAL_PLAN PolicyTrial plot_retry_storm retry_storm storm_summary trial_policy
    """,
    "retrieval_lab": """
        SUPPORT_THRESHOLD PrototypeStore citation_support cited_doc_ids leaking_queries
        lesson_index prototype_answer repeated_documents retrieval_recall score_answers
    """,
    "routing_lab": """
        APPROACHES HumanCosts PlanResult RouterPlanError RoutingBench normalise_plan
        plot_cost_and_quality plot_learning_curve tuning_and_held_out
        rotated_vectors tampered_copy upgraded_embedder
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
    "structured_lab": """
        FEW_SHOT_TEMPLATE cost_row json_wrapping kinds_table lesson_tickets repair_report
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
    "upload_lab": """
        ALLOWED_EXTENSIONS MAX_UPLOAD_BYTES MAX_UPLOAD_PIXELS UploadCase png_bomb
        prototype_validator score_validator upload_suite
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
