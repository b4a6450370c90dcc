//! Downloads made in the page: text exports, the DAG drawing as SVG, and as PNG via a canvas.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, BlobPropertyBag, HtmlAnchorElement, HtmlCanvasElement, HtmlImageElement, Url};

fn save_blob(blob: &Blob, filename: &str) {
    let Ok(url) = Url::create_object_url_with_blob(blob) else {
        return;
    };
    let document = leptos::prelude::document();
    if let Ok(a) = document.create_element("a") {
        let a: HtmlAnchorElement = a.unchecked_into();
        a.set_href(&url);
        a.set_download(filename);
        let _ = document.body().map(|b| b.append_child(&a));
        a.click();
        a.remove();
    }
    let _ = Url::revoke_object_url(&url);
}

fn blob_of(text: &str, mime: &str) -> Option<Blob> {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    Blob::new_with_str_sequence_and_options(&parts, &options).ok()
}

pub fn text(filename: &str, mime: &str, content: &str) {
    if let Some(blob) = blob_of(content, mime) {
        save_blob(&blob, filename);
    }
}

fn svg_markup(element_id: &str) -> Option<String> {
    let element = leptos::prelude::document().get_element_by_id(element_id)?;
    web_sys::XmlSerializer::new()
        .ok()?
        .serialize_to_string(&element)
        .ok()
}

pub fn svg(element_id: &str, filename: &str) {
    if let Some(markup) = svg_markup(element_id) {
        text(filename, "image/svg+xml", &markup);
    }
}

/// Draws the SVG into a canvas at twice its on-screen size and saves the canvas as PNG.
pub fn svg_as_png(element_id: &str, filename: &str) {
    let document = leptos::prelude::document();
    let Some(element) = document.get_element_by_id(element_id) else {
        return;
    };
    let Some(markup) = svg_markup(element_id) else {
        return;
    };
    let Some(svg_blob) = blob_of(&markup, "image/svg+xml") else {
        return;
    };
    let Ok(url) = Url::create_object_url_with_blob(&svg_blob) else {
        return;
    };
    let rect = element.get_bounding_client_rect();
    let (w, h) = (
        (rect.width() * 2.0).max(1.0) as u32,
        (rect.height() * 2.0).max(1.0) as u32,
    );
    let Ok(image) = HtmlImageElement::new() else {
        return;
    };
    let filename = filename.to_string();
    let image_for_load = image.clone();
    let url_for_load = url.clone();
    let on_load = Closure::once_into_js(move || {
        let _ = Url::revoke_object_url(&url_for_load);
        let document = leptos::prelude::document();
        let Ok(canvas) = document.create_element("canvas") else {
            return;
        };
        let canvas: HtmlCanvasElement = canvas.unchecked_into();
        canvas.set_width(w);
        canvas.set_height(h);
        let Ok(Some(ctx)) = canvas.get_context("2d") else {
            return;
        };
        let ctx: web_sys::CanvasRenderingContext2d = ctx.unchecked_into();
        ctx.set_fill_style_str("#ffffff");
        ctx.fill_rect(0.0, 0.0, w as f64, h as f64);
        let _ = ctx.draw_image_with_html_image_element_and_dw_and_dh(
            &image_for_load,
            0.0,
            0.0,
            w as f64,
            h as f64,
        );
        let save = Closure::once_into_js(move |blob: JsValue| {
            if let Some(blob) = blob.dyn_ref::<Blob>() {
                save_blob(blob, &filename);
            }
        });
        let _ = canvas.to_blob(save.unchecked_ref());
    });
    image.set_onload(Some(on_load.unchecked_ref()));
    image.set_src(&url);
}
