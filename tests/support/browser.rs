//! Browser tests' tooling: Debian's Chromium, headless, driven through ChromeDriver with
//! fantoccini. One chromedriver serves the whole test run (started on first use, stopped by
//! [`stop`] at the end); each test opens its own browser session, so cookies never leak between
//! tests. Without chromium or chromedriver the browser tests are reported ignored.

use fantoccini::{Client, ClientBuilder, Locator};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The executable `name` on PATH.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

fn chromium() -> Option<PathBuf> {
    on_path("chromium").or_else(|| on_path("chromium-browser"))
}

/// Why browser tests cannot run here (chromium, chromedriver, node or the provider missing).
pub fn missing() -> Option<String> {
    if chromium().is_none() {
        return Some("chromium is not installed (apt-get install chromium)".into());
    }
    if on_path("chromedriver").is_none() {
        return Some("chromedriver is not installed (apt-get install chromium-driver)".into());
    }
    if let Some(why) = super::oidc::missing() {
        return Some(why);
    }
    let axe = axe_script();
    (!axe.exists()).then(|| format!("{} is missing (npm ci --prefix target/oidc-mock)", axe.display()))
}

/// axe-core's script, installed with the provider by `.ci/run` (pinned in tests/oidc/package.json).
fn axe_script() -> PathBuf {
    super::oidc::module_dir().join("node_modules/axe-core/axe.min.js")
}

struct Driver {
    child: Child,
    url: String,
}

static DRIVER: Mutex<Option<Driver>> = Mutex::new(None);

/// The shared chromedriver's URL, starting it on first use.
fn driver_url() -> String {
    let mut guard = DRIVER.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(d) = guard.as_ref() {
        return d.url.clone();
    }
    let port = super::smtp::free_port();
    let child = Command::new(on_path("chromedriver").expect("chromedriver"))
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(20), "chromedriver did not start listening");
        std::thread::sleep(Duration::from_millis(50));
    }
    let url = format!("http://127.0.0.1:{port}");
    *guard = Some(Driver { child, url: url.clone() });
    url
}

/// Stops the shared chromedriver (and any browser it still runs); called when the run ends.
pub fn stop() {
    let mut guard = DRIVER.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(mut d) = guard.take() {
        let _ = d.child.kill();
        let _ = d.child.wait();
    }
}

/// One headless browser session.
pub struct Browser {
    /// The WebDriver client, for anything the helpers below do not cover.
    pub client: Client,
}

impl Browser {
    /// A fresh browser (its own profile and cookies); `javascript: false` turns scripts off.
    pub async fn open(javascript: bool) -> Self {
        let binary = chromium().expect("chromium").display().to_string();
        let mut options = serde_json::json!({
            "binary": binary,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,900", "--no-first-run", "--disable-extensions"],
        });
        if !javascript {
            options["prefs"] = serde_json::json!({"profile.managed_default_content_settings.javascript": 2});
        }
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".into(), options);
        let client = ClientBuilder::native()
            .capabilities(caps)
            .connect(&driver_url())
            .await
            .expect("a browser session from chromedriver");
        Browser { client }
    }

    /// Goes to `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
    }

    /// The current URL.
    pub async fn url(&self) -> url::Url {
        self.client.current_url().await.expect("current url")
    }

    /// The visible text of the page.
    pub async fn text(&self) -> String {
        // A page still replacing itself can turn the body stale between find and read.
        for _ in 0..50 {
            if let Ok(body) = self.client.find(Locator::Css("body")).await {
                if let Ok(text) = body.text().await {
                    return text;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the page has no readable body");
    }

    /// Clicks the button or link whose text is `text`, and waits for the next page to load.
    pub async fn click(&self, text: &str) {
        self.click_at(&format!("//button[normalize-space(.)='{text}'] | //a[normalize-space(.)='{text}']")).await;
    }

    /// Clicks the first element `xpath` finds, and waits for the next page to load.
    pub async fn click_at(&self, xpath: &str) {
        let target = self.client.find(Locator::XPath(xpath)).await.unwrap_or_else(|e| panic!("{xpath}: {e}"));
        target.clone().click().await.expect("click");
        // WebDriver's click does not wait for a form post's navigation: wait until the clicked
        // element is gone with its page, then until the new page has loaded.
        let started = Instant::now();
        while target.tag_name().await.is_ok() && started.elapsed() < Duration::from_secs(15) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.wait_loaded().await;
    }

    /// Waits until the current page has loaded.
    pub async fn wait_loaded(&self) {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(15) {
            let state = self.client.execute("return document.readyState", vec![]).await;
            if state.ok().as_ref().and_then(|s| s.as_str()) == Some("complete") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Fills the field labelled by the element with id `id`.
    pub async fn fill(&self, id: &str, value: &str) {
        let field = self.client.find(Locator::Id(id)).await.expect("field");
        field.clear().await.expect("clear field");
        field.send_keys(value).await.expect("type into field");
    }

    /// Sets the value of the field with id `id` through the page's script (date inputs take
    /// typed keys in the locale's order, so a test sets them directly).
    pub async fn set_value(&self, id: &str, value: &str) {
        let script = "document.getElementById(arguments[0]).value = arguments[1]";
        self.client.execute(script, vec![id.into(), value.into()]).await.expect("set a field's value");
    }

    /// The serious and critical accessibility violations axe-core finds on the current page,
    /// one line each: rule, help text and the first elements at fault.
    pub async fn accessibility_violations(&self) -> Vec<String> {
        let axe = std::fs::read_to_string(axe_script()).expect("axe-core's script");
        self.client.execute(&axe, vec![]).await.expect("inject axe-core");
        let run = r#"const done = arguments[arguments.length - 1];
            axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => v.impact + ' ' + v.id + ': ' + v.help + ' at '
                    + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))))
              .catch(e => done(['axe failed: ' + e]));"#;
        let found = self.client.execute_async(run, vec![]).await.expect("run axe-core");
        serde_json::from_value(found).expect("a list of violations")
    }

    /// The value of this browser's cookie `name` (HttpOnly cookies too).
    pub async fn cookie(&self, name: &str) -> Option<String> {
        self.client.get_named_cookie(name).await.ok().map(|c| c.value().to_string())
    }

    /// Resizes the window (screenshots are taken at the window's size).
    pub async fn resize(&self, width: u32, height: u32) {
        self.client.set_window_size(width, height).await.expect("resize the window");
    }

    /// Saves a PNG screenshot of the window to `path`.
    pub async fn save_png(&self, path: &Path) {
        let png = self.client.screenshot().await.expect("screenshot");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("screenshot folder");
        }
        std::fs::write(path, png).expect("write screenshot");
    }

    /// Ends the browser session.
    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}
