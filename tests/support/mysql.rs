//! MySQL requests built by hand, for the integration tests that schedule or
//! render one without a request file.

use idp::request::{Kind, Spec};

/// The gates MySQL's `ha: true` adds (its product definition).
pub static MULTI_AZ: std::sync::LazyLock<[String; 1]> = std::sync::LazyLock::new(|| ["multi_az".to_owned()]);

/// The built-in MySQL product's kind, and a MySQL spec as validation makes it.
pub fn mysql(size: &str, storage_gb: u32, ha: bool) -> (Kind, Spec) {
    let products = idp::product::Products::embedded();
    let product = products.named("mysql").expect("a built-in product");
    let fields = serde_json::json!({ "size": size, "storageGB": storage_gb, "ha": ha });
    (Kind::of(product), Spec::data(product, fields.as_object().expect("an object").clone()))
}
