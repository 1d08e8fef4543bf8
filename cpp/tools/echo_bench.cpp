// echo_bench: loads an echo server from one epoll thread, checks every echoed byte, and reports
// throughput, a latency histogram's percentiles, its own CPU time (so a run where the client was
// the limit is flagged) and, with --server-pid, the server's CPU time per message and peak RSS.
// The load generator is in bench.cpp; this file is the command line and the report.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <exception>
#include <string>

#include "echolab/cli.hpp"
#include "echolab/diagnostics.hpp"
#include "echolab/socket.hpp"
#include "tools/bench.hpp"

namespace {

using echolab::bench::LatencyHistogram;
using echolab::bench::Mode;
using echolab::bench::Options;
using echolab::bench::Repetition;
using echolab::bench::Report;
using nlohmann::json;

json latency_json(const LatencyHistogram& h) {
  return {{"count", h.count()},          {"min", h.min()},          {"mean", h.mean()},
          {"p50", h.percentile(50)},     {"p90", h.percentile(90)}, {"p99", h.percentile(99)},
          {"p99_9", h.percentile(99.9)}, {"max", h.max()}};
}

json repetition_json(const Repetition& r) {
  json j = {{"seconds", r.seconds},
            {"messages", r.messages},
            {"bytes", r.bytes},
            {"echoes_per_s", r.echoes_per_second()},
            {"mib_per_s", r.mib_per_second()},
            {"latency_ns", latency_json(r.latency)},
            {"client_cpu_s", r.client_cpu_seconds},
            {"client_cpu_fraction", r.client_cpu_fraction()},
            {"client_bound", r.client_bound()}};
  if (r.server_cpu_seconds) {
    j["server_cpu_s"] = *r.server_cpu_seconds;
    j["server_cpu_fraction"] = r.seconds > 0 ? *r.server_cpu_seconds / r.seconds : 0;
    j["server_cpu_us_per_message"] =
        r.messages > 0 ? *r.server_cpu_seconds * 1e6 / static_cast<double>(r.messages) : 0;
  }
  if (r.server_after) {
    j["server_peak_rss_kib"] = r.server_after->peak_rss_kib;
    j["server_rss_kib"] = r.server_after->rss_kib;
  }
  return j;
}

json report_json(const Report& report) {
  const Options& o = report.options;
  json options = {{"host", o.host},
                  {"port", o.port},
                  {"mode", echolab::bench::mode_name(o.mode)},
                  {"connections", o.connections},
                  {"size", o.size},
                  {"window", o.window},
                  {"warmup_s", o.warmup_seconds},
                  {"duration_s", o.duration_seconds},
                  {"repetitions", o.repetitions}};
  if (o.mode == Mode::rate) options["rate"] = o.rate;
  if (o.server_pid) options["server_pid"] = *o.server_pid;
  json repetitions = json::array();
  for (const Repetition& r : report.repetitions) repetitions.push_back(repetition_json(r));
  return {{"tool", "echo_bench"},
          {"label", o.label},
          {"options", options},
          {"latency_is", o.mode == Mode::rate ? "response time from when each message was due"
                                              : "service time (closed loop)"},
          {"repetitions", repetitions},
          {"sent_bytes", report.sent_bytes},
          {"verified_bytes", report.verified_bytes},
          {"mismatches", report.mismatches},
          {"errors", report.errors},
          {"ok", report.ok()}};
}

void print_text(const Report& report) {
  for (std::size_t i = 0; i < report.repetitions.size(); ++i) {
    const Repetition& r = report.repetitions[i];
    const auto us = [&](double p) { return static_cast<double>(r.latency.percentile(p)) / 1e3; };
    std::printf(
        "repetition %zu: %.0f echoes/s  %.1f MiB/s  latency us p50 %.1f p99 %.1f "
        "p99.9 %.1f max %.1f  client CPU %.0f%%%s\n",
        i + 1, r.echoes_per_second(), r.mib_per_second(), us(50), us(99), us(99.9),
        static_cast<double>(r.latency.max()) / 1e3, 100 * r.client_cpu_fraction(),
        r.client_bound() ? " (client-bound: the server may be faster)" : "");
    if (r.server_cpu_seconds && r.messages > 0)
      std::printf(
          "  server: CPU %.0f%%, %.2f us per message, peak RSS %llu KiB\n",
          100 * *r.server_cpu_seconds / r.seconds,
          *r.server_cpu_seconds * 1e6 / static_cast<double>(r.messages),
          static_cast<unsigned long long>(r.server_after ? r.server_after->peak_rss_kib : 0));
  }
  std::printf(
      "verified %llu of %llu bytes sent; %s\n",
      static_cast<unsigned long long>(report.verified_bytes),
      static_cast<unsigned long long>(report.sent_bytes),
      report.ok() ? "every byte came back intact, every connection ended with FIN" : "FAILED");
}

void say(const std::string& line) {
  std::fprintf(stderr, "echo_bench: %s\n", line.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  const std::string program = echolab::program_name(argv[0]);
  Options options;
  try {
    options = echolab::bench::parse_options(
        std::span<char* const>(argv + 1, static_cast<std::size_t>(argc - 1)));
  } catch (const echolab::HelpRequested&) {
    std::fputs(echolab::bench::usage(program).c_str(), stdout);
    return 0;
  } catch (const echolab::UsageError& e) {
    std::fprintf(stderr, "%s: %s\n%s", program.c_str(), e.what(),
                 echolab::bench::usage(program).c_str());
    return 2;
  }
  echolab::ignore_sigpipe();
  try {
    const Report report = echolab::bench::run(options, say);
    for (const std::string& error : report.errors) say(error);
    if (options.json) {
      std::puts(report_json(report).dump(2).c_str());
    } else {
      print_text(report);
    }
    return report.ok() ? 0 : 1;
  } catch (const std::exception& e) {
    say(e.what());
    return 1;
  }
}
