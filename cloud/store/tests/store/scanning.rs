use std::collections::HashSet;
use std::time::Duration;

use rampart_store::chrono::{Duration as Span, SubsecRound, Utc};
use rampart_store::entity::{IncidentStatus, NotificationState, ScanJobState, Severity};
use rampart_store::serde_json::json;
use rampart_store::{Error, NewIncident, NewScanJob, Store};

use crate::common::TestDb;

const LEASE: Duration = Duration::from_secs(60);

fn job(endpoint_id: i64, key: &str) -> NewScanJob<'_> {
    NewScanJob {
        endpoint_id,
        point: r#"query["id"]"#,
        class: "sqli",
        payload_family: "boolean-blind",
        payload: "1 AND 1=2",
        dedup_key: key,
        not_before: None,
    }
}

async fn scan_jobs_queue(db: &TestDb) {
    let s = &db.store;
    let app = s.create_application("shop").await.expect("app");
    let ep = s.upsert_endpoint(app.id, "GET", "/item").await.expect("ep");

    let j1 = s
        .enqueue_scan_job(app.id, job(ep.id, "k1"))
        .await
        .expect("enqueue")
        .expect("new");
    assert_eq!((j1.state, j1.attempts), (ScanJobState::Pending, 0));
    assert!(s
        .enqueue_scan_job(app.id, job(ep.id, "k1"))
        .await
        .expect("enqueue")
        .is_none());
    let later = Utc::now() + Span::hours(1);
    let mut j2 = job(ep.id, "k2");
    j2.not_before = Some(later);
    s.enqueue_scan_job(app.id, j2)
        .await
        .expect("enqueue")
        .expect("new");
    assert!(matches!(
        s.enqueue_scan_job(app.id, job(9999, "k3")).await,
        Err(Error::NotFound(_))
    ));

    // Only the due job is claimed; a second claim finds nothing.
    let claimed = s.claim_scan_jobs(10, LEASE).await.expect("claim");
    assert_eq!(claimed.len(), 1);
    let c1 = &claimed[0];
    assert_eq!(
        (c1.id, c1.state, c1.attempts),
        (j1.id, ScanJobState::Running, 1)
    );
    assert!(s
        .claim_scan_jobs(10, LEASE)
        .await
        .expect("claim")
        .is_empty());
    assert!(matches!(
        s.claim_scan_jobs(10, Duration::ZERO).await,
        Err(Error::Invalid(_))
    ));

    // The worker died: after the lease the job is claimed again.
    let after_lease = Utc::now().trunc_subsecs(6) + Span::seconds(61);
    let again = s
        .claim_scan_jobs_at(1, LEASE, after_lease)
        .await
        .expect("claim");
    assert_eq!(again.len(), 1);
    let c2 = &again[0];
    assert_eq!((c2.id, c2.attempts), (j1.id, 2));
    // The first worker's late outcome is refused; the current one is kept.
    assert!(!s.complete_scan_job(c1).await.expect("stale"));
    assert!(s
        .fail_scan_job(c2, "timeout", Some(after_lease + Span::seconds(30)))
        .await
        .expect("fail"));
    let pending = s
        .list_scan_jobs(app.id, Some(ScanJobState::Pending), 10)
        .await
        .expect("list");
    assert_eq!(pending.len(), 2);
    let retried = pending.iter().find(|j| j.id == j1.id).expect("j1");
    assert_eq!(retried.last_error.as_deref(), Some("timeout"));
    assert_eq!(retried.next_attempt_at, after_lease + Span::seconds(30));

    let c3 = s
        .claim_scan_jobs_at(1, LEASE, after_lease + Span::seconds(30))
        .await
        .expect("claim")
        .pop()
        .expect("due again");
    assert_eq!(c3.attempts, 3);
    assert!(s.complete_scan_job(&c3).await.expect("done"));
    assert!(!s.complete_scan_job(&c3).await.expect("twice"));
    let done = s
        .list_scan_jobs(app.id, Some(ScanJobState::Done), 10)
        .await
        .expect("list");
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].last_error, None);

    // Giving up for good.
    let c4 = s
        .claim_scan_jobs_at(1, LEASE, later)
        .await
        .expect("claim")
        .pop()
        .expect("k2 due");
    assert!(s.fail_scan_job(&c4, "refused", None).await.expect("fail"));
    let failed = s
        .list_scan_jobs(app.id, Some(ScanJobState::Failed), 10)
        .await
        .expect("list");
    assert_eq!(failed.len(), 1);
    assert_eq!(
        s.list_scan_jobs(app.id, None, 10).await.expect("all").len(),
        2
    );
}

async fn concurrent_workers_claim_each_job_once(db: &TestDb) {
    let app = db.store.create_application("shop").await.expect("app");
    let ep = db
        .store
        .upsert_endpoint(app.id, "GET", "/x")
        .await
        .expect("ep");
    for i in 0..30 {
        let key = format!("k{i}");
        db.store
            .enqueue_scan_job(app.id, job(ep.id, &key))
            .await
            .expect("enqueue")
            .expect("new");
    }
    let other = db.another_store().await;
    let work = |s: Store| async move {
        let mut mine = Vec::new();
        loop {
            let got = s.claim_scan_jobs(4, LEASE).await.expect("claim");
            if got.is_empty() {
                break mine;
            }
            mine.extend(got.into_iter().map(|j| j.id));
        }
    };
    let (a, b, c) = tokio::join!(
        work(db.store.clone()),
        work(other.clone()),
        work(other.clone())
    );
    let total = a.len() + b.len() + c.len();
    let distinct: HashSet<i64> = a.iter().chain(&b).chain(&c).copied().collect();
    assert_eq!(total, 30, "no job claimed twice");
    assert_eq!(distinct.len(), 30, "every job claimed");
    other.close().await.expect("close");
}

async fn incidents_and_notifications(db: &TestDb) {
    let s = &db.store;
    let app = s.create_application("shop").await.expect("app");
    let ep = s.upsert_endpoint(app.id, "GET", "/item").await.expect("ep");
    let evidence = json!({"status": 500, "diff": "sql error"});
    let new = NewIncident {
        title: "SQL injection in /item id",
        severity: Severity::High,
        endpoint_id: Some(ep.id),
        point: Some(r#"query["id"]"#),
        payload: Some("1'"),
        evidence: &evidence,
        dedup_key: "sqli:/item:id",
    };
    let first = s.open_incident(app.id, new).await.expect("open");
    assert!(first.created);
    assert_eq!(first.incident.status, IncidentStatus::Open);
    assert_eq!(first.incident.evidence_json().expect("json"), evidence);

    let evidence2 = json!({"status": 500, "diff": "again"});
    let second = s
        .open_incident(
            app.id,
            NewIncident {
                evidence: &evidence2,
                ..new
            },
        )
        .await
        .expect("open again");
    assert!(!second.created);
    assert_eq!(second.incident.id, first.incident.id);
    assert_eq!(second.incident.evidence_json().expect("json"), evidence2);

    // Resolved and found again: open again. False positive: stays.
    s.set_incident_status(first.incident.id, IncidentStatus::Resolved)
        .await
        .expect("resolve");
    let reopened = s.open_incident(app.id, new).await.expect("reopen");
    assert_eq!(reopened.incident.status, IncidentStatus::Open);
    s.set_incident_status(first.incident.id, IncidentStatus::FalsePositive)
        .await
        .expect("fp");
    let kept = s.open_incident(app.id, new).await.expect("again");
    assert_eq!(kept.incident.status, IncidentStatus::FalsePositive);

    let other = s
        .open_incident(
            app.id,
            NewIncident {
                title: "Noise",
                severity: Severity::Low,
                endpoint_id: None,
                point: None,
                payload: None,
                evidence: &json!({}),
                dedup_key: "noise",
            },
        )
        .await
        .expect("open");
    assert_eq!(s.list_incidents(app.id, None).await.expect("list").len(), 2);
    let open = s
        .list_incidents(app.id, Some(IncidentStatus::Open))
        .await
        .expect("list");
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].id, other.incident.id);
    assert_eq!(
        s.incident(other.incident.id)
            .await
            .expect("get")
            .map(|i| i.title),
        Some("Noise".to_owned())
    );
    assert!(matches!(
        s.set_incident_status(9999, IncidentStatus::Open).await,
        Err(Error::NotFound(_))
    ));

    // Notifications.
    let msg = json!({"text": "SQL injection in /item"});
    let n = s
        .enqueue_notification(first.incident.id, "webhook:ops", &msg)
        .await
        .expect("enqueue");
    assert_eq!((n.state, n.attempts), (NotificationState::Pending, 0));
    assert_eq!(n.payload_json().expect("json"), msg);
    assert!(matches!(
        s.enqueue_notification(9999, "webhook:ops", &msg).await,
        Err(Error::NotFound(_))
    ));
    let claimed = s.claim_notifications(10, LEASE).await.expect("claim");
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].state, NotificationState::Sending);
    assert!(s
        .claim_notifications(10, LEASE)
        .await
        .expect("claim")
        .is_empty());
    let retry_at = Utc::now() + Span::seconds(5);
    assert!(s
        .notification_failed(&claimed[0], "HTTP 503", Some(retry_at))
        .await
        .expect("failed"));
    let again = s
        .claim_notifications_at(10, LEASE, retry_at)
        .await
        .expect("claim");
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 2);
    assert_eq!(again[0].last_error.as_deref(), Some("HTTP 503"));
    assert!(!s.notification_sent(&claimed[0]).await.expect("stale claim"));
    assert!(s.notification_sent(&again[0]).await.expect("sent"));
    let n2 = s
        .enqueue_notification(first.incident.id, "webhook:ops", &msg)
        .await
        .expect("enqueue");
    let c = s.claim_notifications(10, LEASE).await.expect("claim");
    assert_eq!(c.len(), 1);
    assert!(s
        .notification_failed(&c[0], "gone", None)
        .await
        .expect("give up"));
    let states: Vec<(i64, NotificationState)> = s
        .list_notifications(first.incident.id)
        .await
        .expect("list")
        .into_iter()
        .map(|n| (n.id, n.state))
        .collect();
    assert_eq!(
        states,
        [
            (n.id, NotificationState::Sent),
            (n2.id, NotificationState::Failed)
        ]
    );
}

crate::on_both!(
    scan_jobs_queue,
    concurrent_workers_claim_each_job_once,
    incidents_and_notifications,
);
