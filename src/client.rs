//! The command-line client of a running krawlr (`KRAWLR_URL`, `KRAWLR_API_KEY`): submit (and
//! follow a job's live progress), status, result, the job list, cancel, retry, monitors. Errors say what to do:
//! a server that does not answer, a refused key, the API's own message.

use crate::job::{JobStatus, Stage};
use anyhow::{Context, bail};
use clap::Subcommand;
use serde_json::{Value, json};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Submit a company site; with --wait, follow its progress and print the report
    Submit {
        url: String,
        /// Follow the job's live progress and print its report (JSON) when it completes
        #[arg(long)]
        wait: bool,
        #[arg(long)]
        webhook_url: Option<String>,
        #[arg(long)]
        max_pages: Option<u32>,
        /// Indent the report (with --wait)
        #[arg(long)]
        pretty: bool,
    },
    /// A job's status document
    Status { id: String },
    /// A job's report (JSON)
    Result {
        id: String,
        #[arg(long)]
        pretty: bool,
    },
    /// Your jobs, newest first
    Jobs {
        #[arg(long, value_parser = job_status)]
        status: Option<JobStatus>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Cancel a job
    Cancel { id: String },
    /// Run a failed or cancelled job again (a fresh round of attempts, same id)
    Retry { id: String },
    /// Sites re-scraped on a schedule, and what changed
    Monitors {
        #[command(subcommand)]
        command: MonitorCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum MonitorCommand {
    /// Watch a site: scraped now, then every --every seconds; prints the monitor's id
    Create {
        url: String,
        /// Seconds between runs (at least the server's KRAWLR_MONITOR_MIN_INTERVAL_SECONDS)
        #[arg(long, default_value_t = 86400.0)]
        every: f64,
        /// Where its report.changed events go
        #[arg(long)]
        webhook_url: Option<String>,
        /// A report path whose changes count (repeatable; default: all)
        #[arg(long = "field")]
        fields: Vec<String>,
    },
    /// Your monitors
    List,
    /// What a monitor's runs found changed, newest first (JSON)
    Changes {
        id: String,
        #[arg(long)]
        pretty: bool,
    },
}

struct Client {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl Client {
    fn from_env() -> anyhow::Result<Client> {
        use crate::config::declared::{API_KEY, Kind, URL};
        let Kind::Text { default } = URL.kind else { unreachable!("KRAWLR_URL is text") };
        let base = std::env::var(URL.name).unwrap_or_else(|_| default.into());
        let base = base.trim_end_matches('/').to_string();
        let key = std::env::var(API_KEY.name)
            .ok()
            .filter(|k| !k.trim().is_empty())
            .context("set KRAWLR_API_KEY to your API key (`krawlr keys create` makes one)")?;
        let http = reqwest::Client::builder().connect_timeout(Duration::from_secs(5)).build()?;
        Ok(Client { http, base, key })
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> anyhow::Result<reqwest::Response> {
        let response = request.bearer_auth(&self.key).send().await.map_err(|e| {
            if e.is_connect() || e.is_timeout() {
                anyhow::anyhow!("cannot reach krawlr at {} (KRAWLR_URL): is it running?", self.base)
            } else {
                anyhow::anyhow!("request to {} failed: {}", self.base, crate::telemetry::chain(&e))
            }
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let message = body["error"]["message"].as_str().unwrap_or("no message").to_string();
        if status == 401 {
            bail!("the API key was refused (KRAWLR_API_KEY): {message}");
        }
        bail!("{message} (HTTP {})", status.as_u16())
    }

    async fn get(&self, path: &str) -> anyhow::Result<(u16, Value)> {
        let response = self.send(self.http.get(format!("{}{path}", self.base))).await?;
        Ok((response.status().as_u16(), response.json().await?))
    }

    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let response = self.send(self.http.post(format!("{}{path}", self.base)).json(&body)).await?;
        Ok(response.json().await?)
    }
}

fn print_json(value: &Value, pretty: bool) -> anyhow::Result<()> {
    let text = if pretty { serde_json::to_string_pretty(value)? } else { serde_json::to_string(value)? };
    println!("{text}");
    Ok(())
}

pub async fn run(command: ClientCommand) -> anyhow::Result<ExitCode> {
    let client = Client::from_env()?;
    match command {
        ClientCommand::Submit { url, wait, webhook_url, max_pages, pretty } => {
            let mut body = json!({"url": url, "webhook_url": webhook_url});
            if let Some(max_pages) = max_pages {
                body["options"] = json!({"max_pages": max_pages});
            }
            let submitted = client.post("/api/v1/scrape/company", body).await?;
            let id = submitted["scrape_id"].as_str().context("the answer has no scrape_id")?.to_string();
            if !wait {
                println!("{id}");
                return Ok(ExitCode::SUCCESS);
            }
            eprintln!("submitted {id}");
            follow(&client, &id, pretty).await
        }
        ClientCommand::Status { id } => {
            print_json(&client.get(&format!("/api/v1/scrape/status/{id}")).await?.1, true)?;
            Ok(ExitCode::SUCCESS)
        }
        ClientCommand::Result { id, pretty } => {
            let (code, body) = client.get(&format!("/api/v1/scrape/{id}")).await?;
            if code == 202 {
                eprintln!("job {id} is {} ({}%): no report yet", body["status"], body["progress_percent"]);
                return Ok(ExitCode::from(3));
            }
            print_json(&body, pretty)?;
            Ok(ExitCode::SUCCESS)
        }
        ClientCommand::Jobs { status, limit } => {
            let mut path = format!("/api/v1/scrape?limit={limit}");
            if let Some(status) = status {
                path.push_str(&format!("&status={status}"));
            }
            let (_, page) = client.get(&path).await?;
            println!("{:<38} {:<11} {:>4}  {:<25} URL", "ID", "STATUS", "%", "CREATED");
            for job in page["jobs"].as_array().into_iter().flatten() {
                println!(
                    "{:<38} {:<11} {:>4}  {:<25} {}",
                    job["job_id"].as_str().unwrap_or_default(),
                    job["status"].as_str().unwrap_or_default(),
                    job["progress_percent"],
                    job["created_at"].as_str().unwrap_or_default(),
                    job["url"].as_str().unwrap_or_default()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        ClientCommand::Cancel { id } => {
            let job = client.post(&format!("/api/v1/scrape/{id}/cancel"), json!({})).await?;
            println!("{id} {}", job["status"].as_str().unwrap_or_default());
            Ok(ExitCode::SUCCESS)
        }
        ClientCommand::Retry { id } => {
            let job = client.post(&format!("/api/v1/scrape/{id}/retry"), json!({})).await?;
            println!("{id} {}", job["status"].as_str().unwrap_or_default());
            Ok(ExitCode::SUCCESS)
        }
        ClientCommand::Monitors { command } => monitors(&client, command).await,
    }
}

/// `--status`: one of the job statuses, by name.
fn job_status(name: &str) -> Result<JobStatus, String> {
    JobStatus::parse(name).ok_or_else(|| {
        let names: Vec<&str> = JobStatus::ALL.iter().map(|s| s.as_str()).collect();
        format!("expected one of {}", names.join(", "))
    })
}

async fn monitors(client: &Client, command: MonitorCommand) -> anyhow::Result<ExitCode> {
    match command {
        MonitorCommand::Create { url, every, webhook_url, fields } => {
            let mut body = json!({"url": url, "interval_seconds": every, "webhook_url": webhook_url});
            if !fields.is_empty() {
                body["fields"] = json!(fields);
            }
            let monitor = client.post("/api/v1/monitors", body).await?;
            println!("{}", monitor["id"].as_str().context("the answer has no id")?);
        }
        MonitorCommand::List => {
            let (_, list) = client.get("/api/v1/monitors").await?;
            println!(
                "{:<36} {:<8} {:>9} {:>5} {:>7}  {:<25} URL",
                "ID", "STATUS", "EVERY (s)", "RUNS", "CHANGES", "NEXT RUN"
            );
            for m in list["monitors"].as_array().into_iter().flatten() {
                println!(
                    "{:<36} {:<8} {:>9} {:>5} {:>7}  {:<25} {}",
                    m["id"].as_str().unwrap_or_default(),
                    m["status"].as_str().unwrap_or_default(),
                    m["interval_seconds"],
                    m["runs"],
                    m["changes"],
                    m["next_run_at"].as_str().unwrap_or_default(),
                    m["url"].as_str().unwrap_or_default()
                );
            }
        }
        MonitorCommand::Changes { id, pretty } => {
            let (_, changes) = client.get(&format!("/api/v1/monitors/{id}/changes")).await?;
            print_json(&changes["changes"], pretty)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One Server-Sent Event of a job's stream (`GET /api/v1/scrape/{id}/events`).
#[derive(Debug, Clone, PartialEq)]
pub struct ServerEvent {
    /// The change's number, for `Last-Event-ID`.
    pub id: Option<u32>,
    pub event: String,
    pub data: Value,
}

/// One event from one block of the stream (the text between two blank lines); `None` for a
/// block that is not an event (a keep-alive comment).
pub fn parse_event(block: &str) -> Option<ServerEvent> {
    let field = |name: &str| block.lines().find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()));
    Some(ServerEvent {
        id: field("id:").and_then(|v| v.parse().ok()),
        event: field("event:")?,
        data: serde_json::from_str(&field("data:")?).unwrap_or(Value::Null),
    })
}

/// Follows the job's event stream (reconnecting with `Last-Event-ID` if it drops), shows the
/// progress on stderr, and prints the report once the job completes.
async fn follow(client: &Client, id: &str, pretty: bool) -> anyhow::Result<ExitCode> {
    let tty = std::io::stderr().is_terminal();
    let mut last: Option<u32> = None;
    let mut drops = 0;
    loop {
        let mut request = client.http.get(format!("{}/api/v1/scrape/{id}/events", client.base));
        if let Some(last) = last {
            request = request.header("Last-Event-ID", last.to_string());
        }
        let mut response = client.send(request).await?;
        let mut buffer = String::new();
        loop {
            let chunk = match response.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) | Err(_) => break,
            };
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let block: String = buffer.drain(..end + 2).collect();
                let Some(ServerEvent { id: change, event, data }) = parse_event(&block) else { continue };
                last = change.or(last);
                let stage = data["current_stage"].as_str().and_then(Stage::parse).unwrap_or(Stage::Starting);
                let line = format!("[{:>3}%] {:<10} {}", data["progress_percent"], stage.as_str(), data["status"]);
                if tty {
                    eprint!("\r\x1b[2K{line}");
                } else {
                    eprintln!("{line}");
                }
                // A terminal event's name is the job's status (`completed`, `failed`, `cancelled`).
                match JobStatus::parse(&event) {
                    Some(JobStatus::Completed) => {
                        if tty {
                            eprintln!();
                        }
                        let (_, report) = client.get(&format!("/api/v1/scrape/{id}")).await?;
                        print_json(&report, pretty)?;
                        return Ok(ExitCode::SUCCESS);
                    }
                    Some(JobStatus::Failed | JobStatus::Cancelled) => {
                        if tty {
                            eprintln!();
                        }
                        let reason = data["error"].as_str().unwrap_or("no reason recorded");
                        eprintln!("krawlr: job {id} {event}: {reason}");
                        return Ok(ExitCode::FAILURE);
                    }
                    _ => {}
                }
            }
        }
        drops += 1;
        if drops > 5 {
            bail!("the event stream of job {id} kept dropping; `krawlr status {id}` shows where it is");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_is_one_of_the_job_statuses_by_name() {
        for status in JobStatus::ALL {
            assert_eq!(job_status(status.as_str()), Ok(status));
        }
        let err = job_status("done").unwrap_err();
        assert!(err.contains("queued") && err.contains("cancelled"), "{err}");
    }
}
