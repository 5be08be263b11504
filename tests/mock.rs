//! The test double shipped for users (`MockHttp`, feature `test-util`), tested itself: the
//! only tests here that run without the local cloud, because they test the double, not the
//! SDK against Glance.

use futures_util::TryStreamExt;
use openstack_auth::{CloudConfig, Error, MockHttp, RetryPolicy, Session};
use openstack_image::{Image, ImageProxy, ImageQuery};
use serde_json::json;

fn glance(mock: &MockHttp) -> ImageProxy {
    let cfg = CloudConfig::without_auth("image", "http://glance.test");
    let retry = RetryPolicy::default().initial_backoff(std::time::Duration::from_millis(1));
    ImageProxy::new(
        Session::builder(cfg).retry_policy(retry).http_service(mock.clone()).build().unwrap(),
    )
}

#[tokio::test]
async fn an_unscripted_request_fails_loudly_and_is_not_retried() {
    let mock = MockHttp::new();
    let err = glance(&mock).get_image("abc").await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{}", err.report());
    assert!(err.report().contains("no scripted answer for GET /v2/images/abc"), "{}", err.report());
    assert_eq!(mock.requests().len(), 1, "not retried");
}

#[tokio::test]
async fn answers_are_taken_in_order_by_method_path_and_query() {
    let mock = MockHttp::new();
    mock.on("GET", "/v2/images/a").json(200, json!({"id": "a", "name": "first"}));
    mock.on("GET", "/v2/images/a").json(200, json!({"id": "a", "name": "second"}));
    mock.on("GET", "/v2/images/b").always().json(200, json!({"id": "b"}));
    mock.on("GET", "/v2/images?name=x").json(200, json!({"images": [{"id": "x", "name": "x"}]}));
    mock.on("GET", "/v2/images").json(200, json!({"images": []}));
    let img = glance(&mock);
    assert_eq!(img.get_image("a").await.unwrap().name.as_deref(), Some("first"));
    assert_eq!(img.get_image("a").await.unwrap().name.as_deref(), Some("second"));
    assert!(img.get_image("a").await.is_err(), "both answers for a are used");
    for _ in 0..3 {
        assert_eq!(img.get_image("b").await.unwrap().id, "b");
    }
    let named: Vec<Image> = img.images(&ImageQuery::new().name("x")).try_collect().await.unwrap();
    assert_eq!(named.len(), 1, "the exact query matched");
    assert_eq!(mock.unused(), ["GET /v2/images"]);
    let all: Vec<Image> = img.images(&ImageQuery::new()).try_collect().await.unwrap();
    assert!(all.is_empty(), "any other query takes the answer without one");
    mock.assert_all_used();
}

#[tokio::test]
async fn statuses_map_to_error_kinds_and_503_is_retried() {
    let mock = MockHttp::new();
    mock.on("GET", "/v2/images/gone").json(404, json!({"message": "No image found"}));
    mock.on("GET", "/v2/images/busy").status(503);
    mock.on("GET", "/v2/images/busy").json(200, json!({"id": "busy"}));
    let img = glance(&mock);
    assert!(img.get_image("gone").await.unwrap_err().is_not_found());
    assert_eq!(img.get_image("busy").await.unwrap().id, "busy", "the 503 was retried");
    mock.assert_all_used();
}

#[tokio::test]
async fn what_was_sent_is_recorded() {
    let mock = MockHttp::new();
    let member = json!({"image_id": "i", "member_id": "p", "status": "pending"});
    mock.on("POST", "/v2/images/i/members").json(200, member);
    let added = glance(&mock).add_member("i", "p").await.unwrap();
    assert_eq!(added.member_id, "p");
    let sent = mock.requests();
    let post = sent.iter().find(|r| r.method == "POST").expect("the POST");
    assert_eq!(post.json().expect("a JSON body"), json!({"member": "p"}));
    assert!(post.headers.get("x-auth-token").is_none(), "no auth: no token");
    assert!(post.headers.get("user-agent").is_some());
}

#[test]
#[should_panic(expected = "scripted answers never requested: [\"DELETE /v2/images/x\"]")]
fn an_unused_answer_fails_the_check() {
    let mock = MockHttp::new();
    mock.on("DELETE", "/v2/images/x").status(204);
    mock.assert_all_used();
}
