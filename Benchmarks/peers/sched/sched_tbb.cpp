// oneTBB flow-graph peer of `dataflow-bench sched`: the same four shapes (chain,
// independent, wavefront, binary tree) of empty tasks, re-run and build+run, and the
// 10-task (1 -> 8 -> 1) latency. One JSON object per line, the keys of
// `dataflow-bench sched --json` plus "peer".
//
// Build (Debian/Ubuntu: apt-get install -y g++ libtbb-dev):
//   g++ -O2 -std=c++17 -o sched_tbb sched_tbb.cpp -ltbb
// Run:
//   ./sched_tbb [--workers 1,2] [--size 1000000] [--reps 5] [--shapes chain,...]
//               [--modes rerun,build+run] [--latency]
//
// Each task is a tbb::flow::continue_node<continue_msg> with an empty body; a
// dependency is make_edge(pred, succ); roots get try_put(continue_msg()), then
// graph::wait_for_all(). Workers: a tbb::task_arena of that many threads (the caller
// joins it, as Dataflow's caller does). build+run times constructing the graph, the
// run and destroying the graph, as `dataflow-bench sched` does.
#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/version.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

using namespace oneapi::tbb;
using Node = flow::continue_node<flow::continue_msg>;

static double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

static double median(std::vector<double> xs) {
    std::sort(xs.begin(), xs.end());
    size_t n = xs.size();
    return n % 2 ? xs[n / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2;
}

// The edges of a shape, as in DataflowScheduler's BenchmarkShape.
struct Shape {
    int n = 0;
    std::vector<std::pair<int, int>> edges;
};

static Shape makeShape(const std::string& name, long size) {
    Shape s;
    if (name == "chain" || name == "independent") {
        s.n = (int)size;
        if (name == "chain")
            for (int i = 1; i < s.n; ++i) s.edges.push_back({i - 1, i});
    } else if (name == "wavefront") {
        int side = std::max(1, (int)std::sqrt((double)size));
        s.n = side * side;
        for (int i = 0; i < side; ++i)
            for (int j = 0; j < side; ++j) {
                int t = i * side + j;
                if (i > 0) s.edges.push_back({t - side, t});
                if (j > 0) s.edges.push_back({t - 1, t});
            }
    } else if (name == "tree") {
        int levels = std::max(1, (int)std::lround(std::log2((double)size + 1)));
        s.n = (1 << levels) - 1;
        for (int i = 1; i < s.n; ++i) s.edges.push_back({(i - 1) / 2, i});
    } else {
        std::fprintf(stderr, "unknown shape %s\n", name.c_str());
        std::exit(2);
    }
    return s;
}

// A flow graph built from a shape.
struct Built {
    flow::graph g;
    std::deque<Node> nodes;
    std::vector<Node*> roots;
    explicit Built(const Shape& s) {
        std::vector<char> hasPred(s.n, 0);
        for (int i = 0; i < s.n; ++i) nodes.emplace_back(g, [](const flow::continue_msg&) {});
        for (auto& e : s.edges) {
            flow::make_edge(nodes[e.first], nodes[e.second]);
            hasPred[e.second] = 1;
        }
        for (int i = 0; i < s.n; ++i)
            if (!hasPred[i]) roots.push_back(&nodes[i]);
    }
    void run() {
        for (Node* r : roots) r->try_put(flow::continue_msg());
        g.wait_for_all();
    }
};

static std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ',')) out.push_back(item);
    return out;
}

int main(int argc, char** argv) {
    std::string workersArg = "1,2", shapesArg = "chain,independent,wavefront,tree", modesArg = "rerun,build+run";
    long size = 1000000;
    int reps = 5;
    bool latency = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) { std::fprintf(stderr, "%s needs a value\n", a.c_str()); std::exit(2); }
            return argv[++i];
        };
        if (a == "--workers") workersArg = next();
        else if (a == "--size") size = std::atol(next().c_str());
        else if (a == "--reps") reps = std::atoi(next().c_str());
        else if (a == "--shapes") shapesArg = next();
        else if (a == "--modes") modesArg = next();
        else if (a == "--latency") latency = true;
        else { std::fprintf(stderr, "unknown argument %s\n", a.c_str()); return 2; }
    }
    auto modes = split(modesArg);
    bool rerun = std::find(modes.begin(), modes.end(), "rerun") != modes.end();
    bool buildRun = std::find(modes.begin(), modes.end(), "build+run") != modes.end();
    std::fprintf(stderr, "oneTBB %d.%d (interface %d)\n", TBB_VERSION_MAJOR, TBB_VERSION_MINOR, TBB_INTERFACE_VERSION);

    for (auto& w : split(workersArg)) {
        int workers = std::atoi(w.c_str());
        task_arena arena(workers);
        arena.execute([&] {
            for (auto& shapeName : split(shapesArg)) {
                Shape shape = makeShape(shapeName, size);
                if (rerun) {
                    Built b(shape);
                    b.run();  // warm-up
                    std::vector<double> samples;
                    for (int r = 0; r < reps; ++r) {
                        double t0 = now();
                        b.run();
                        samples.push_back(now() - t0);
                    }
                    std::printf("{\"bench\":\"sched\",\"peer\":\"onetbb\",\"shape\":\"%s\",\"mode\":\"rerun\",\"workers\":%d,\"tasks\":%d,\"ns_per_task\":%.1f}\n",
                                shapeName.c_str(), workers, shape.n, median(samples) / shape.n * 1e9);
                }
                if (buildRun) {
                    std::vector<double> samples;
                    for (int r = 0; r < reps; ++r) {
                        double t0 = now();
                        {
                            auto b = std::make_unique<Built>(shape);
                            b->run();
                        }  // destroyed inside the timed region
                        samples.push_back(now() - t0);
                    }
                    std::printf("{\"bench\":\"sched\",\"peer\":\"onetbb\",\"shape\":\"%s\",\"mode\":\"build+run\",\"workers\":%d,\"tasks\":%d,\"ns_per_task\":%.1f}\n",
                                shapeName.c_str(), workers, shape.n, median(samples) / shape.n * 1e9);
                }
                std::fflush(stdout);
            }
            if (latency) {
                Shape s;
                s.n = 10;
                for (int i = 1; i <= 8; ++i) s.edges.push_back({0, i});
                for (int i = 1; i <= 8; ++i) s.edges.push_back({i, 9});
                Built b(s);
                for (int r = 0; r < 1000; ++r) b.run();
                std::vector<double> samples;
                for (int r = 0; r < 15; ++r) {
                    const int runs = 2000;
                    double t0 = now();
                    for (int k = 0; k < runs; ++k) b.run();
                    samples.push_back((now() - t0) / runs);
                }
                std::printf("{\"bench\":\"sched\",\"peer\":\"onetbb\",\"shape\":\"ten-task\",\"mode\":\"latency\",\"workers\":%d,\"tasks\":10,\"us_per_run\":%.3f}\n",
                            workers, median(samples) * 1e6);
                std::fflush(stdout);
            }
        });
    }
    return 0;
}
