//! A migration plan's evidence from Prometheus: instant queries (`GET /api/v1/query` with
//! `time=` the boundary) over plain HTTP with hyper, each bounded by the plan's timeout.
//! An answer that cannot be had (refused, slow, HTTP 5xx, garbage) leaves the boundary
//! unanswered, so the plan holds and asks again; an answer that says there is no single
//! number (no series, several series, a query Prometheus refuses) is missing evidence.

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use migration::{parse_query_answer, promql, AnswerError, Asked, EvidenceSource, Reading, Readings, Unanswered};
use std::time::Duration;
use toggles::{PrometheusSource, Timestamp};

/// Largest answer read: one number's answer is a few hundred bytes.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

pub struct PrometheusEvidence {
    source: PrometheusSource,
    authority: String,
    prefix: String,
    runtime: tokio::runtime::Runtime,
}

fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl PrometheusEvidence {
    pub fn new(source: PrometheusSource) -> std::io::Result<PrometheusEvidence> {
        let rest = source.url.strip_prefix("http://").unwrap_or(&source.url);
        let (authority, prefix) = match rest.find('/') {
            Some(i) => (rest[..i].to_owned(), rest[i..].trim_end_matches('/').to_owned()),
            None => (rest.to_owned(), String::new()),
        };
        let authority = if authority.contains(':') { authority } else { format!("{authority}:80") };
        let runtime = tokio::runtime::Builder::new_current_thread().enable_io().enable_time().build()?;
        Ok(PrometheusEvidence { source, authority, prefix, runtime })
    }

    async fn get(&self, path_and_query: &str) -> Result<(u16, Bytes), String> {
        let stream = tokio::net::TcpStream::connect(&self.authority).await.map_err(|e| format!("cannot connect to {}: {e}", self.authority))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| format!("HTTP handshake with {}: {e}", self.authority))?;
        let driver = tokio::spawn(connection);
        let request = hyper::Request::get(path_and_query)
            .header(hyper::header::HOST, &self.authority)
            .header(hyper::header::ACCEPT, "application/json")
            .body(Empty::<Bytes>::new())
            .map_err(|e| e.to_string())?;
        let response = sender.send_request(request).await.map_err(|e| format!("request to {}: {e}", self.authority))?;
        let status = response.status().as_u16();
        let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES).collect().await.map_err(|e| format!("reading the answer: {e}"))?.to_bytes();
        driver.abort();
        Ok((status, body))
    }

    /// One instant query at `at`: a reading, or why the question is unanswered.
    pub fn query(&self, expression: &str, at: Timestamp) -> Result<Reading, Unanswered> {
        let path = format!("{}/api/v1/query?query={}&time={}.{:03}", self.prefix, encode(expression), at.0.div_euclid(1000), at.0.rem_euclid(1000));
        let timeout: Duration = self.source.timeout;
        let answer = self.runtime.block_on(async { tokio::time::timeout(timeout, self.get(&path)).await });
        let (status, body) = match answer {
            Err(_) => return Err(Unanswered(format!("Prometheus at {} did not answer within {timeout:?}", self.source.url))),
            Ok(Err(e)) => return Err(Unanswered(format!("Prometheus at {}: {e}", self.source.url))),
            Ok(Ok(answer)) => answer,
        };
        match (status, parse_query_answer(&body)) {
            (200, Ok(reading)) => Ok(reading),
            // Prometheus refuses the query itself: every host gets the same refusal.
            (400 | 422, Err(AnswerError::Failed(why))) => Ok(Reading::Missing(format!("Prometheus refused the query: {why}"))),
            (200, Err(e)) => Err(Unanswered(format!("Prometheus at {}: {e}", self.source.url))),
            (status, _) => {
                let text: String = String::from_utf8_lossy(&body).chars().take(160).collect();
                Err(Unanswered(format!("Prometheus at {} answered HTTP {status}: {}", self.source.url, text.trim())))
            }
        }
    }
}

impl EvidenceSource for PrometheusEvidence {
    fn ask(&mut self, asked: &Asked<'_>) -> Result<Readings, Unanswered> {
        let mut readings = Readings::new();
        for measure in &asked.measures {
            let check = asked.stage.checks.iter().find(|c| c.measure == *measure);
            let expression = promql(*measure, check, asked.board, asked.window());
            readings.insert(*measure, self.query(&expression, asked.at)?);
        }
        Ok(readings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    /// A real server on loopback that answers every request with `response` (after
    /// `delay`), for as many requests as the test makes.
    fn server(response: &'static str, delay: Duration) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    let _ = stream.read(&mut buf);
                    std::thread::sleep(delay);
                    let _ = stream.write_all(response.as_bytes());
                });
            }
        });
        url
    }

    fn client(url: String) -> PrometheusEvidence {
        PrometheusEvidence::new(PrometheusSource { url, timeout: Duration::from_millis(300), settle: Duration::ZERO }).unwrap()
    }

    fn reply(status: &str, body: &str) -> &'static str {
        Box::leak(format!("HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).into_boxed_str())
    }

    const AT: Timestamp = Timestamp(1_700_000_000_250);

    #[test]
    fn a_single_series_is_read_as_its_number() {
        let body = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000.25,"7"]}]}}"#;
        let c = client(server(reply("200 OK", body), Duration::ZERO));
        assert_eq!(c.query("sum(up)", AT), Ok(Reading::Value(7.0)));
        assert_eq!(encode("sum(x{a=\"b\"}[5s])"), "sum%28x%7Ba%3D%22b%22%7D%5B5s%5D%29");
    }

    #[test]
    fn unreachable_slow_failing_and_garbage_answers_leave_the_boundary_unanswered() {
        let closed = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://{}", l.local_addr().unwrap())
        };
        let cases = [
            (closed, "cannot connect"),
            (server(reply("200 OK", "{}"), Duration::from_secs(2)), "did not answer within"),
            (server(reply("500 Internal Server Error", "boom"), Duration::ZERO), "HTTP 500: boom"),
            (server(reply("200 OK", "<html>proxy</html>"), Duration::ZERO), "not Prometheus's query JSON"),
            (server(reply("503 Service Unavailable", r#"{"status":"error","errorType":"unavailable","error":"starting"}"#), Duration::ZERO), "HTTP 503"),
        ];
        for (url, says) in cases {
            let e = client(url).query("sum(up)", AT).unwrap_err();
            assert!(e.0.contains(says), "{e}");
        }
    }

    #[test]
    fn a_refused_query_several_series_or_none_are_missing_evidence_with_the_reason() {
        let refused = reply("400 Bad Request", r#"{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected"}"#);
        let many = reply("200 OK", r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"instance":"a"},"value":[1,"1"]},{"metric":{"instance":"b"},"value":[1,"0"]}]}}"#);
        let none = reply("200 OK", r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#);
        for (response, says) in [(refused, "refused the query"), (many, "2 series"), (none, "no series")] {
            match client(server(response, Duration::ZERO)).query("x", AT) {
                Ok(Reading::Missing(why)) => assert!(why.contains(says), "{why}"),
                other => panic!("{other:?}"),
            }
        }
    }
}
