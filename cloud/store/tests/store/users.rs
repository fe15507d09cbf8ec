use rampart_store::entity::Role;
use rampart_store::secret::hash_secret;
use rampart_store::Error;

use crate::common::TestDb;

async fn users_and_passwords(db: &TestDb) {
    let s = &db.store;
    let alice = s
        .create_user("alice", "correct horse battery", Role::Admin)
        .await
        .expect("create");
    assert!(alice.password_hash.starts_with("$argon2id$"));
    assert!(!alice.password_hash.contains("correct horse"));
    assert!(matches!(
        s.create_user("alice", "another password", Role::Analyst)
            .await,
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        s.create_user("bob", "", Role::Analyst).await,
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        s.create_user("bob", "seven77", Role::Analyst).await,
        Err(Error::Invalid(_))
    ));
    let bob = s
        .create_user("bob", "hunter22", Role::Analyst)
        .await
        .expect("bob");

    let ok = s
        .authenticate_user("alice", "correct horse battery")
        .await
        .expect("auth");
    assert_eq!(ok.map(|u| u.id), Some(alice.id));
    assert!(s
        .authenticate_user("alice", "wrong")
        .await
        .expect("auth")
        .is_none());
    assert!(s
        .authenticate_user("nobody", "wrong")
        .await
        .expect("auth")
        .is_none());

    s.set_user_password(bob.id, "new-pass")
        .await
        .expect("password");
    assert!(s
        .authenticate_user("bob", "hunter22")
        .await
        .expect("auth")
        .is_none());
    assert!(s
        .authenticate_user("bob", "new-pass")
        .await
        .expect("auth")
        .is_some());
    let promoted = s.set_user_role(bob.id, Role::Admin).await.expect("role");
    assert_eq!(promoted.role, Role::Admin);
    assert!(matches!(
        s.set_user_role(9999, Role::Admin).await,
        Err(Error::NotFound(_))
    ));
    assert_eq!(s.user(bob.id).await.expect("get"), Some(promoted.clone()));
    assert_eq!(s.user_by_name("bob").await.expect("get"), Some(promoted));
    let names: Vec<String> = s
        .list_users()
        .await
        .expect("list")
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, ["alice", "bob"]);
}

async fn api_tokens(db: &TestDb) {
    let s = &db.store;
    let admin = s
        .create_user("root", "pw-root-1", Role::Admin)
        .await
        .expect("admin");
    let analyst = s
        .create_user("ann", "pw-ann-12", Role::Analyst)
        .await
        .expect("analyst");

    let t = s
        .create_api_token(admin.id, "ci", Role::Analyst)
        .await
        .expect("token");
    assert_eq!(t.row.token_hash, hash_secret(&t.secret));
    assert_eq!(t.row.last_used_at, None);
    assert!(matches!(
        s.create_api_token(analyst.id, "escalate", Role::Admin)
            .await,
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        s.create_api_token(9999, "x", Role::Analyst).await,
        Err(Error::NotFound(_))
    ));

    let who = s
        .authenticate_api_token(&t.secret)
        .await
        .expect("auth")
        .expect("valid");
    assert_eq!(who.user.id, admin.id);
    assert_eq!(who.role, Role::Analyst);
    assert!(s
        .authenticate_api_token("rpt_nope")
        .await
        .expect("auth")
        .is_none());
    let listed = s.list_api_tokens(admin.id).await.expect("list");
    assert!(listed[0].last_used_at.is_some(), "use recorded");

    // A token's role is capped by its user's current role.
    let admin_token = s
        .create_api_token(admin.id, "ops", Role::Admin)
        .await
        .expect("token");
    s.set_user_role(admin.id, Role::Analyst)
        .await
        .expect("demote");
    let capped = s
        .authenticate_api_token(&admin_token.secret)
        .await
        .expect("auth")
        .expect("valid");
    assert_eq!(capped.role, Role::Analyst);

    assert!(s.revoke_api_token(t.row.id).await.expect("revoke"));
    assert!(!s.revoke_api_token(t.row.id).await.expect("revoke twice"));
    assert!(s
        .authenticate_api_token(&t.secret)
        .await
        .expect("auth")
        .is_none());
    assert_eq!(s.list_api_tokens(admin.id).await.expect("list").len(), 2);

    // Deleting the user deletes their tokens.
    assert!(s.delete_user(admin.id).await.expect("delete"));
    assert!(s
        .authenticate_api_token(&admin_token.secret)
        .await
        .expect("auth")
        .is_none());
    assert!(s.list_api_tokens(admin.id).await.expect("list").is_empty());
    assert!(!s.delete_user(admin.id).await.expect("delete again"));
}

crate::on_both!(users_and_passwords, api_tokens);

/// No secret handed out by the store appears anywhere in the database file.
#[tokio::test]
async fn no_plaintext_secret_reaches_the_sqlite_file() {
    use std::time::Duration;

    let path = std::env::temp_dir().join(format!(
        "rampart_store_secrets_{}_{}.db",
        std::process::id(),
        line!()
    ));
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let s = rampart_store::Store::connect(&url).await.expect("open");
    s.migrate().await.expect("migrate");
    let app = s.create_application("shop").await.expect("app");
    let enroll = s
        .create_enrollment_token(app.id, Duration::from_secs(60))
        .await
        .expect("token");
    let unused = s
        .create_enrollment_token(app.id, Duration::from_secs(60))
        .await
        .expect("token");
    let node = s
        .enroll_node(&enroll.secret, "n", "1")
        .await
        .expect("enroll")
        .expect("accepted");
    let password = "Canary-Password-4711";
    let user = s
        .create_user("u", password, Role::Admin)
        .await
        .expect("user");
    let api = s
        .create_api_token(user.id, "t", Role::Admin)
        .await
        .expect("token");
    s.close().await.expect("close");

    let mut bytes = Vec::new();
    for suffix in ["", "-wal"] {
        let mut p = path.clone().into_os_string();
        p.push(suffix);
        if let Ok(b) = std::fs::read(&p) {
            bytes.extend(b);
        }
        let _ = std::fs::remove_file(&p);
    }
    let mut shm = path.clone().into_os_string();
    shm.push("-shm");
    let _ = std::fs::remove_file(shm);
    assert!(!bytes.is_empty());
    for secret in [
        enroll.secret.as_str(),
        unused.secret.as_str(),
        node.secret.as_str(),
        api.secret.as_str(),
        password,
    ] {
        let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
        assert!(!found, "a secret is stored in plaintext");
    }
    // The hashes are there (the check above looks at the right bytes).
    let hash = hash_secret(&node.secret);
    assert!(bytes.windows(hash.len()).any(|w| w == hash.as_bytes()));
}
