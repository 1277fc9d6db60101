// A plain C++17 std::thread baseline for `dataflow-bench sched`: the same four shapes
// (chain, independent, wavefront, binary tree) of empty tasks, re-run and build+run,
// and the 10-task (1 -> 8 -> 1) latency. One JSON object per line, the keys of
// `dataflow-bench sched --json` plus "peer": "threads".
//
// Build (any C++17 compiler, no library):
//   g++ -O2 -std=c++17 -pthread -o sched_threads sched_threads.cpp
// Run:
//   ./sched_threads [--workers 1,2] [--size 1000000] [--reps 5] [--shapes chain,...]
//                   [--modes rerun,build+run] [--latency]
//
// What it is: the textbook scheduler one would write in an afternoon, to show what the
// algorithm costs without a library's engineering. A graph is compiled into CSR
// successor lists, in-degrees and roots, with one std::function per task. A run resets
// atomic join counters, puts the roots on the caller's queue and wakes the pool
// (condition variable); each worker (the caller is worker 0) pops from the back of its
// own std::deque under its own std::mutex, steals from the front of the others', runs a
// task, decrements its successors' counters, runs one newly ready successor inline and
// pushes the others; a shared atomic counts the tasks left. Idle workers yield while a
// run is in progress and sleep on the condition variable between runs. build+run times
// compiling the graph from its edge list (made outside the timed region, as for the
// oneTBB peer), the run and the destruction.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

static double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

static double median(std::vector<double> xs) {
    std::sort(xs.begin(), xs.end());
    size_t n = xs.size();
    return n % 2 ? xs[n / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2;
}

// The edges of a shape, as in DataflowScheduler's BenchmarkShape (and sched_tbb.cpp).
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

// A compiled graph: bodies, CSR successors, in-degrees, roots.
struct Graph {
    int n;
    std::vector<std::function<void()>> bodies;
    std::vector<int> succStart, succ, indeg, roots;
    explicit Graph(const Shape& s) : n(s.n) {
        bodies.reserve(n);
        for (int i = 0; i < n; ++i) bodies.emplace_back([] {});
        succStart.assign(n + 1, 0);
        indeg.assign(n, 0);
        for (auto& e : s.edges) {
            succStart[e.first + 1]++;
            indeg[e.second]++;
        }
        for (int i = 0; i < n; ++i) succStart[i + 1] += succStart[i];
        succ.resize(s.edges.size());
        std::vector<int> fill(succStart.begin(), succStart.end() - 1);
        for (auto& e : s.edges) succ[fill[e.first]++] = e.second;
        for (int i = 0; i < n; ++i)
            if (!indeg[i]) roots.push_back(i);
    }
};

class Pool {
public:
    explicit Pool(int workers) : w_(workers) {
        for (int i = 0; i < w_; ++i) queues_.push_back(std::make_unique<Queue>());
        for (int i = 1; i < w_; ++i) threads_.emplace_back([this, i] { loop(i); });
    }
    ~Pool() {
        {
            std::lock_guard<std::mutex> l(sleepM_);
            stop_ = true;
        }
        sleepCv_.notify_all();
        for (auto& t : threads_) t.join();
    }

    // Runs every task of g once, each after its predecessors; the caller helps.
    void run(const Graph& g) {
        if (g.n == 0) return;
        if ((size_t)g.n > joinCap_) {
            join_.reset(new std::atomic<int>[g.n]);
            joinCap_ = g.n;
        }
        for (int i = 0; i < g.n; ++i) join_[i].store(g.indeg[i], std::memory_order_relaxed);
        graph_.store(&g, std::memory_order_relaxed);
        remaining_.store(g.n, std::memory_order_release);
        {
            std::lock_guard<std::mutex> l(queues_[0]->m);
            for (auto it = g.roots.rbegin(); it != g.roots.rend(); ++it) queues_[0]->q.push_back(*it);
        }
        if (w_ > 1) {
            {
                std::lock_guard<std::mutex> l(sleepM_);
                ++epoch_;
            }
            sleepCv_.notify_all();
        }
        help(0);
    }

private:
    struct Queue {
        std::mutex m;
        std::deque<int> q;
    };
    int w_;
    std::vector<std::unique_ptr<Queue>> queues_;
    std::vector<std::thread> threads_;
    std::unique_ptr<std::atomic<int>[]> join_;
    size_t joinCap_ = 0;
    std::atomic<const Graph*> graph_{nullptr};
    std::atomic<long> remaining_{0};
    std::mutex sleepM_;
    std::condition_variable sleepCv_;
    long epoch_ = 0;
    bool stop_ = false;

    void push(int w, int t) {
        std::lock_guard<std::mutex> l(queues_[w]->m);
        queues_[w]->q.push_back(t);
    }
    bool pop(int w, int& t) {
        std::lock_guard<std::mutex> l(queues_[w]->m);
        if (queues_[w]->q.empty()) return false;
        t = queues_[w]->q.back();
        queues_[w]->q.pop_back();
        return true;
    }
    bool steal(int w, int& t) {
        for (int k = 1; k < w_; ++k) {
            int v = (w + k) % w_;
            std::lock_guard<std::mutex> l(queues_[v]->m);
            if (!queues_[v]->q.empty()) {
                t = queues_[v]->q.front();
                queues_[v]->q.pop_front();
                return true;
            }
        }
        return false;
    }
    void execute(int w, int t) {
        const Graph& g = *graph_.load(std::memory_order_relaxed);
        while (true) {
            g.bodies[t]();
            int next = -1;
            for (int k = g.succStart[t]; k < g.succStart[t + 1]; ++k) {
                int s = g.succ[k];
                if (join_[s].fetch_sub(1, std::memory_order_acq_rel) == 1) {
                    if (next >= 0) push(w, next);
                    next = s;
                }
            }
            remaining_.fetch_sub(1, std::memory_order_acq_rel);
            if (next < 0) return;
            t = next;
        }
    }
    // Works until the run in progress has no task left.
    void help(int w) {
        int t;
        while (remaining_.load(std::memory_order_acquire) > 0) {
            if (pop(w, t) || steal(w, t)) execute(w, t);
            else std::this_thread::yield();
        }
    }
    void loop(int w) {
        long seen = 0;
        while (true) {
            {
                std::unique_lock<std::mutex> l(sleepM_);
                sleepCv_.wait(l, [&] { return stop_ || epoch_ != seen; });
                if (stop_) return;
                seen = epoch_;
            }
            help(w);
        }
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

    for (auto& ws : split(workersArg)) {
        int workers = std::atoi(ws.c_str());
        if (workers < 1) { std::fprintf(stderr, "workers must be >= 1\n"); return 2; }
        Pool pool(workers);
        for (auto& shapeName : split(shapesArg)) {
            Shape shape = makeShape(shapeName, size);
            if (rerun) {
                Graph g(shape);
                pool.run(g);  // warm-up
                std::vector<double> samples;
                for (int r = 0; r < reps; ++r) {
                    double t0 = now();
                    pool.run(g);
                    samples.push_back(now() - t0);
                }
                std::printf("{\"bench\":\"sched\",\"peer\":\"threads\",\"shape\":\"%s\",\"mode\":\"rerun\",\"workers\":%d,\"tasks\":%d,\"ns_per_task\":%.1f}\n",
                            shapeName.c_str(), workers, shape.n, median(samples) / shape.n * 1e9);
            }
            if (buildRun) {
                std::vector<double> samples;
                for (int r = 0; r < reps; ++r) {
                    double t0 = now();
                    {
                        auto g = std::make_unique<Graph>(shape);
                        pool.run(*g);
                    }  // destroyed inside the timed region
                    samples.push_back(now() - t0);
                }
                std::printf("{\"bench\":\"sched\",\"peer\":\"threads\",\"shape\":\"%s\",\"mode\":\"build+run\",\"workers\":%d,\"tasks\":%d,\"ns_per_task\":%.1f}\n",
                            shapeName.c_str(), workers, shape.n, median(samples) / shape.n * 1e9);
            }
            std::fflush(stdout);
        }
        if (latency) {
            Shape s;
            s.n = 10;
            for (int i = 1; i <= 8; ++i) s.edges.push_back({0, i});
            for (int i = 1; i <= 8; ++i) s.edges.push_back({i, 9});
            Graph g(s);
            for (int r = 0; r < 1000; ++r) pool.run(g);
            std::vector<double> samples;
            for (int r = 0; r < 15; ++r) {
                const int runs = 2000;
                double t0 = now();
                for (int k = 0; k < runs; ++k) pool.run(g);
                samples.push_back((now() - t0) / runs);
            }
            std::printf("{\"bench\":\"sched\",\"peer\":\"threads\",\"shape\":\"ten-task\",\"mode\":\"latency\",\"workers\":%d,\"tasks\":10,\"us_per_run\":%.3f}\n",
                        workers, median(samples) * 1e6);
            std::fflush(stdout);
        }
    }
    return 0;
}
