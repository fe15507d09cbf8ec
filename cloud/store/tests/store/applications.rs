use rampart_store::serde_json::json;
use rampart_store::Error;

use crate::common::TestDb;

async fn create_find_update_delete(db: &TestDb) {
    let s = &db.store;
    let shop = s.create_application("shop").await.expect("create");
    assert_eq!(shop.name, "shop");
    assert_eq!(shop.pack_schedule_secs, 900);
    assert_eq!(shop.settings_json().expect("settings"), json!({}));
    let blog = s.create_application("blog").await.expect("create");

    match s.create_application("shop").await {
        Err(Error::Conflict(what)) => assert!(what.contains("shop"), "{what}"),
        other => panic!("expected Conflict, got {other:?}"),
    }
    assert!(matches!(
        s.create_application("  ").await,
        Err(Error::Invalid(_))
    ));

    assert_eq!(
        s.application(shop.id).await.expect("get"),
        Some(shop.clone())
    );
    assert_eq!(
        s.application_by_name("blog")
            .await
            .expect("get")
            .map(|a| a.id),
        Some(blog.id)
    );
    assert_eq!(s.application_by_name("nope").await.expect("get"), None);
    let names: Vec<String> = s
        .list_applications()
        .await
        .expect("list")
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, ["blog", "shop"]);

    let shop2 = s.set_pack_schedule(shop.id, 30).await.expect("schedule");
    assert_eq!(shop2.pack_schedule_secs, 30);
    assert!(shop2.updated_at >= shop.updated_at);
    assert_eq!(
        shop2.created_at, shop.created_at,
        "timestamps round-trip exactly"
    );
    assert!(matches!(
        s.set_pack_schedule(shop.id, 0).await,
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        s.set_pack_schedule(9999, 60).await,
        Err(Error::NotFound(_))
    ));

    let settings = json!({"mode": "block", "masks": ["email"]});
    let shop3 = s
        .set_application_settings(shop.id, &settings)
        .await
        .expect("settings");
    assert_eq!(shop3.settings_json().expect("parse"), settings);
    assert_eq!(shop3.pack_schedule_secs, 30, "other columns untouched");
    assert!(matches!(
        s.set_application_settings(shop.id, &json!([1])).await,
        Err(Error::Invalid(_))
    ));

    // Deleting cascades to what belongs to the application.
    s.upsert_endpoint(blog.id, "GET", "/posts")
        .await
        .expect("endpoint");
    assert!(s.delete_application(blog.id).await.expect("delete"));
    assert!(!s.delete_application(blog.id).await.expect("delete again"));
    assert_eq!(
        s.endpoint(blog.id, "GET", "/posts").await.expect("get"),
        None
    );
}

crate::on_both!(create_find_update_delete);
