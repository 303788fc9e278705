//! Diesel table definitions, identical for both backends (see migrations/).

diesel::table! {
    people (id) {
        id -> BigInt,
        email -> Text,
        name -> Text,
        department -> Nullable<Text>,
        title -> Nullable<Text>,
        manager_email -> Nullable<Text>,
        status -> Text,
        left_on -> Nullable<Date>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        source_connection_id -> Nullable<BigInt>,
        last_synced_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    apps (id) {
        id -> BigInt,
        name -> Text,
        vendor -> Nullable<Text>,
        category -> Nullable<Text>,
        website -> Nullable<Text>,
        domains -> Text,
        owner_email -> Nullable<Text>,
        technical_owner_email -> Nullable<Text>,
        billing_owner_email -> Nullable<Text>,
        status -> Text,
        notes -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        inactive_days -> Nullable<Integer>,
    }
}

diesel::table! {
    subscriptions (id) {
        id -> BigInt,
        app_id -> BigInt,
        plan -> Text,
        seats_purchased -> Nullable<BigInt>,
        unit_price_cents -> Nullable<BigInt>,
        currency -> Text,
        billing_frequency -> Text,
        term_start -> Date,
        term_end -> Nullable<Date>,
        renewal_type -> Text,
        notice_days -> Nullable<Integer>,
        opt_out_date -> Nullable<Date>,
        owner_email -> Nullable<Text>,
        cost_centre -> Nullable<Text>,
        status -> Text,
        term_number -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        reminder_days -> Nullable<Text>,
        no_action_needed -> Bool,
        renewal_term_months -> Nullable<Integer>,
    }
}

diesel::table! {
    subscription_terms (id) {
        id -> BigInt,
        subscription_id -> BigInt,
        term_number -> Integer,
        plan -> Text,
        seats_purchased -> Nullable<BigInt>,
        unit_price_cents -> Nullable<BigInt>,
        currency -> Text,
        billing_frequency -> Text,
        term_start -> Date,
        term_end -> Nullable<Date>,
        renewal_type -> Text,
        notice_days -> Nullable<Integer>,
        opt_out_date -> Nullable<Date>,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    accounts (id) {
        id -> BigInt,
        app_id -> BigInt,
        subscription_id -> Nullable<BigInt>,
        person_id -> Nullable<BigInt>,
        external_id -> Nullable<Text>,
        email -> Nullable<Text>,
        username -> Nullable<Text>,
        name -> Nullable<Text>,
        role -> Nullable<Text>,
        licence -> Nullable<Text>,
        status -> Text,
        billable -> Bool,
        vendor_created_at -> Nullable<Timestamp>,
        last_active_at -> Nullable<Timestamp>,
        first_seen_at -> Timestamp,
        last_seen_at -> Timestamp,
        removed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        connection_id -> Nullable<BigInt>,
        activity_tracked -> Bool,
        premium_used -> Nullable<Bool>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        entity -> Text,
        entity_id -> Nullable<Text>,
        before_json -> Nullable<Text>,
        after_json -> Nullable<Text>,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        name -> Text,
        role -> Text,
        email -> Nullable<Text>,
        token_hash -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        scope -> Text,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        dedupe_key -> Text,
        kind -> Text,
        recipients -> Text,
        subject -> Text,
        text_body -> Text,
        html_body -> Nullable<Text>,
        message_id -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        claimed_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    renewal_reminders (id) {
        id -> BigInt,
        subscription_id -> BigInt,
        deadline -> Date,
        stage_days -> Integer,
        outcome -> Text,
        outbox_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    jobs (name) {
        name -> Text,
        schedule -> Text,
        lease_holder -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        last_period -> Nullable<Text>,
        last_started_at -> Nullable<Timestamp>,
        last_finished_at -> Nullable<Timestamp>,
        last_duration_ms -> Nullable<BigInt>,
        last_outcome -> Nullable<Text>,
        last_error -> Nullable<Text>,
        next_run_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    findings (id) {
        id -> BigInt,
        fingerprint -> Text,
        kind -> Text,
        app_id -> Nullable<BigInt>,
        subscription_id -> Nullable<BigInt>,
        status -> Text,
        seats -> Nullable<BigInt>,
        monthly_savings_cents -> Nullable<BigInt>,
        annual_savings_cents -> Nullable<BigInt>,
        currency -> Nullable<Text>,
        explanation -> Text,
        evidence -> Text,
        subject_key -> Text,
        dismissed_subject_key -> Nullable<Text>,
        dismiss_reason -> Nullable<Text>,
        snoozed_until -> Nullable<Date>,
        first_seen_at -> Timestamp,
        last_seen_at -> Timestamp,
        resolved_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
        sort_savings -> BigInt,
        risk_rank -> BigInt,
        evidence_brief -> Nullable<Text>,
        counted_elsewhere -> Bool,
    }
}

diesel::table! {
    finding_exclusions (id) {
        id -> BigInt,
        app_id -> Nullable<BigInt>,
        account_id -> Nullable<BigInt>,
        kind -> Nullable<Text>,
        reason -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    connections (id) {
        id -> BigInt,
        connector -> Text,
        name -> Text,
        base_url -> Nullable<Text>,
        settings -> Text,
        secrets -> Text,
        schedule -> Text,
        status -> Text,
        next_sync_at -> Nullable<Timestamp>,
        sync_lease_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sync_runs (id) {
        id -> BigInt,
        connection_id -> BigInt,
        status -> Text,
        trigger -> Text,
        started_at -> Timestamp,
        heartbeat_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        seen -> BigInt,
        added -> BigInt,
        updated -> BigInt,
        removed -> BigInt,
        api_calls -> BigInt,
        error -> Nullable<Text>,
        skipped -> BigInt,
        skipped_records -> Text,
    }
}

diesel::table! {
    oauth_states (state) {
        state -> Text,
        connection_id -> BigInt,
        verifier -> Text,
        redirect_uri -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    licence_pools (id) {
        id -> BigInt,
        connection_id -> BigInt,
        app_id -> BigInt,
        subscription_id -> Nullable<BigInt>,
        sku -> Text,
        name -> Nullable<Text>,
        purchased -> Nullable<BigInt>,
        consumed -> Nullable<BigInt>,
        last_seen_at -> Timestamp,
        removed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    app_grants (id) {
        id -> BigInt,
        connection_id -> BigInt,
        client_id -> Text,
        app_name -> Text,
        scopes -> Nullable<Text>,
        user_key -> Text,
        person_id -> Nullable<BigInt>,
        first_seen_at -> Timestamp,
        last_seen_at -> Timestamp,
        removed_at -> Nullable<Timestamp>,
        organisation_wide -> Bool,
    }
}

diesel::joinable!(subscriptions -> apps (app_id));
diesel::joinable!(subscription_terms -> subscriptions (subscription_id));
diesel::joinable!(accounts -> apps (app_id));
diesel::joinable!(accounts -> subscriptions (subscription_id));
diesel::joinable!(accounts -> people (person_id));
diesel::joinable!(renewal_reminders -> subscriptions (subscription_id));
diesel::joinable!(renewal_reminders -> outbox (outbox_id));
diesel::joinable!(sync_runs -> connections (connection_id));
diesel::joinable!(licence_pools -> apps (app_id));
diesel::joinable!(app_grants -> connections (connection_id));

diesel::allow_tables_to_appear_in_same_query!(
    people,
    apps,
    subscriptions,
    subscription_terms,
    accounts,
    audit_log,
    api_tokens,
    outbox,
    renewal_reminders,
    jobs,
    findings,
    finding_exclusions,
    connections,
    sync_runs,
    oauth_states,
    licence_pools,
    app_grants,
);

// Workflow (requests and approvals). Its own block so other areas can append theirs.

diesel::table! {
    requests (id) {
        id -> BigInt,
        kind -> Text,
        status -> Text,
        requester_email -> Text,
        name -> Nullable<Text>,
        vendor -> Nullable<Text>,
        website -> Nullable<Text>,
        purpose -> Nullable<Text>,
        seats -> Nullable<BigInt>,
        annual_cost_cents -> Nullable<BigInt>,
        currency -> Nullable<Text>,
        data_class -> Text,
        needed_by -> Nullable<Date>,
        app_id -> Nullable<BigInt>,
        subscription_id -> Nullable<BigInt>,
        finding_id -> Nullable<BigInt>,
        account_ids -> Text,
        category -> Text,
        known_vendor -> Bool,
        advice -> Nullable<Text>,
        advice_response -> Nullable<Text>,
        outcome -> Nullable<Text>,
        round -> Integer,
        policy_version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    approval_steps (id) {
        id -> BigInt,
        request_id -> BigInt,
        round -> Integer,
        position -> Integer,
        name -> Text,
        status -> Text,
        approvers -> Text,
        note -> Nullable<Text>,
        sla_hours -> Integer,
        escalate_after_hours -> Integer,
        fallback -> Text,
        pending_since -> Nullable<Timestamp>,
        decided_at -> Nullable<Timestamp>,
        decided_by -> Nullable<Text>,
        comment -> Nullable<Text>,
        reminded_at -> Nullable<Timestamp>,
        escalated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    request_events (id) {
        id -> BigInt,
        request_id -> BigInt,
        at -> Timestamp,
        actor -> Text,
        event -> Text,
        step -> Nullable<Text>,
        comment -> Nullable<Text>,
        details -> Nullable<Text>,
    }
}

diesel::table! {
    workflow_policies (id) {
        id -> BigInt,
        version -> Integer,
        text -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(requests -> apps (app_id));
diesel::joinable!(approval_steps -> requests (request_id));
diesel::joinable!(request_events -> requests (request_id));

diesel::allow_tables_to_appear_in_same_query!(requests, approval_steps, request_events, workflow_policies, apps);

// Data coverage and the savings ledger.

diesel::table! {
    app_sources (app_id) {
        app_id -> BigInt,
        seats_source -> Nullable<Text>,
        seats_updated_at -> Nullable<Timestamp>,
        usage_source -> Nullable<Text>,
        usage_updated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    savings_entries (id) {
        id -> BigInt,
        entry_key -> Text,
        kind -> Text,
        action -> Text,
        app_id -> Nullable<BigInt>,
        subscription_id -> Nullable<BigInt>,
        request_id -> Nullable<BigInt>,
        term_number -> Nullable<Integer>,
        seats_before -> Nullable<BigInt>,
        seats_after -> Nullable<BigInt>,
        unit_price_cents -> Nullable<BigInt>,
        annual_cents -> BigInt,
        currency -> Text,
        contract_lowered -> Bool,
        note -> Text,
        actor -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::joinable!(app_sources -> apps (app_id));
diesel::joinable!(savings_entries -> apps (app_id));
diesel::allow_tables_to_appear_in_same_query!(app_sources, savings_entries, apps);

// The quarterly stack audit: audits and their frozen snapshot, access reviews, owner check-ins.

diesel::table! {
    audits (id) {
        id -> BigInt,
        quarter -> Text,
        taken_at -> Timestamp,
        created_by -> Text,
        previous_id -> Nullable<BigInt>,
        summary -> Text,
        stackward_version -> Text,
    }
}

diesel::table! {
    audit_chunks (id) {
        id -> BigInt,
        audit_id -> BigInt,
        sheet -> Text,
        position -> BigInt,
        rows_count -> BigInt,
        data -> Text,
    }
}

diesel::table! {
    access_reviews (id) {
        id -> BigInt,
        name -> Text,
        due_on -> Date,
        status -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        reminded_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        closed_by -> Nullable<Text>,
    }
}

diesel::table! {
    review_items (id) {
        id -> BigInt,
        review_id -> BigInt,
        app_id -> BigInt,
        account_id -> BigInt,
        person_email -> Nullable<Text>,
        person_status -> Nullable<Text>,
        role -> Nullable<Text>,
        last_active_at -> Nullable<Timestamp>,
        dormant -> Nullable<Bool>,
        dormant_reason -> Nullable<Text>,
        reviewers -> Text,
        decision -> Nullable<Text>,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        by_default -> Bool,
        comment -> Nullable<Text>,
        request_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    check_ins (id) {
        id -> BigInt,
        quarter -> Text,
        app_id -> BigInt,
        owner_email -> Text,
        seats_bought -> Nullable<BigInt>,
        seats_active -> BigInt,
        created_at -> Timestamp,
        answered_at -> Nullable<Timestamp>,
        answered_by -> Nullable<Text>,
        still_needed -> Nullable<Bool>,
        seats_right -> Nullable<Bool>,
        seats_wanted -> Nullable<BigInt>,
        renewal_intention -> Nullable<Text>,
        comment -> Nullable<Text>,
    }
}

diesel::joinable!(audit_chunks -> audits (audit_id));
diesel::joinable!(review_items -> access_reviews (review_id));
diesel::joinable!(check_ins -> apps (app_id));

diesel::allow_tables_to_appear_in_same_query!(audits, audit_chunks, access_reviews, review_items, check_ins, apps);

// Sign-in: users, their roles, sessions and one-time links.

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        name -> Nullable<Text>,
        created_at -> Timestamp,
        last_sign_in_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    user_roles (user_id, role, source) {
        user_id -> BigInt,
        role -> Text,
        source -> Text,
        granted_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        secret_hash -> Text,
        user_id -> BigInt,
        method -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    signin_links (id) {
        id -> BigInt,
        token_hash -> Text,
        user_id -> BigInt,
        next_path -> Text,
        mailed -> Bool,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(user_roles -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(signin_links -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(users, user_roles, sessions, signin_links);

diesel::table! {
    change_stamps (name) {
        name -> Text,
        stamp -> BigInt,
    }
}
