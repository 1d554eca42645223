# Texts of the consultation report, English. Message keys are listed by
# qabilet_core::report::message_keys; kk.ftl and ru.ftl have exactly the same keys and
# arguments (checked by qabilet-core/tests/guidance_rules.rs). Arguments ending in `_key`
# hold a message key: the renderer puts that message's text in their place.

## Headings and labels

report-title = Consultation report: abilities and development
section-summary = Summary
section-profile = Ability profile
section-strengths = Strengths
section-support = Areas to support
section-learning = How the child learns best
section-activities = Activities to try
section-directions = Directions to explore
section-referral = Second stage of the programme
section-interests = Interests
section-caveats = Please keep in mind
label-evidence = Evidence
label-ci = Likely range (90 %)
label-isco = Occupation groups (ISCO-08)

## Domains

domain-general = General ability
domain-verbal = Verbal ability
domain-reasoning = Reasoning
domain-spatial = Visual-spatial ability
domain-quantitative = Working with numbers
domain-working-memory = Working memory
domain-speed = Processing speed

## Summary and profile

summary-age = The child was { $years } years and { $months } { $months ->
        [one] month
       *[other] months
    } old on the day of the assessment.
summary-general = { $domain_key }: { $index } (likely range { $ci_low }–{ $ci_high }; higher than { $percentile } % of children of the same age).
summary-flat = The child's abilities are evenly developed: no area stands out reliably. This is common and good ground for trying many different activities.
summary-uneven = Some areas stand out: strengths found: { $strengths }; areas to support: { $support }.
profile-row = { $domain_key }: { $index } (likely range { $ci_low }–{ $ci_high }; higher than { $percentile } % of children of the same age)

## Strengths and areas to support

strength-clear-strength = { $domain_key } is a clear strength: even the lower end of the likely range ({ $ci_low }) is above average.
strength-possible-strength = { $domain_key } may be a strength: the score is above average, but the likely range ({ $ci_low }–{ $ci_high }) still reaches the average.
strength-relative-strength = { $domain_key } stands out compared with the child's own other results, more than in most children.
support-support = { $domain_key } is an area where the child will benefit from some extra support and practice (likely range { $ci_low }–{ $ci_high }).
support-closer-look = { $domain_key } deserves a closer look by a specialist (likely range { $ci_low }–{ $ci_high }), to understand what would help the child most.

## How the child learns best

learning-working-memory-strength = The child holds and uses several pieces of information at once with ease: longer instructions and multi-step tasks suit them.
learning-working-memory-support = The child learns best when instructions come in short steps, with reminders the child can see (a list, a picture).
learning-working-memory-closer-look = Holding information in mind is hard for the child now; a specialist can advise how to make learning easier.
learning-speed-strength = The child works quickly and accurately on simple tasks.
learning-speed-support = The child works carefully but more slowly: enough time, and praise for accuracy rather than speed, help most.
learning-speed-closer-look = Working under time pressure is hard for the child now; a specialist can advise on a comfortable pace.

## Development directions, worlds of work, career clusters

direction-verbal = Develop language: reading together, talking and telling stories in the languages of the family.
direction-reasoning = Develop reasoning: puzzles, games with rules and patterns, and questions of "why?" and "what if?".
direction-spatial = Develop spatial thinking: building, drawing, construction and shape puzzles.
direction-quantitative = Develop work with numbers: counting games, measuring and maths in everyday life.
direction-broad-directions = Try many kinds of play and activity; at this age variety matters more than choosing a direction.
direction-broad-worlds = Explore all four worlds of work — people, things, data and ideas — through play, clubs and visits; there is no need to choose.
direction-broad-clusters = Keep exploring broadly: clubs, projects and conversations about the work of family members and neighbours; no area of work needs to be chosen now.
world-people = The world of people: helping, teaching, caring for and talking with others.
world-things = The world of things: building, making and repairing, working with tools, machines and materials.
world-data = The world of data: counting, ordering, keeping records and working with numbers and tables.
world-ideas = The world of ideas: inventing, explaining, researching and creating.
cluster-engineering-architecture = Explore engineering and architecture: for example civil or mechanical engineers, architects and engineering technicians.
cluster-maths-data-it = Explore mathematics, data and information technology: for example statisticians, systems analysts and software developers.
cluster-science-medicine = Explore science and medicine: for example physicists, chemists, biologists and doctors.
cluster-language-law-teaching-media = Explore language, law, teaching and media: for example teachers, lawyers, journalists and translators.
cluster-design-visual-arts = Explore design and the visual arts: for example artists, graphic designers and product designers.
cluster-people-care-social = Explore work that helps people: for example psychologists, social workers and nurses.
cluster-business-organisation = Explore business and organisation: for example accountants, management analysts and marketing specialists.

## Activities

activity-shared-reading = Read books together every day and talk about them: ask questions, let the child retell and guess what happens next.
activity-bilingual-reading = Read and tell stories in both (or all) family languages — in Kazakh and in Russian, for example.
activity-storytelling = Make up and tell stories together, with toys, pictures or puppets.
activity-drama-debate = Drama club, school theatre or friendly debates.
activity-pattern-games = Games of finding the rule: continue a pattern, find the odd one out, sort things by a feature.
activity-logic-puzzles = Logic puzzles and riddles suited to the child's age.
activity-chess = Chess, played for enjoyment.
activity-togyz-kumalak = Togyz kumalak, the traditional Kazakh board game, played with family or in a club.
activity-construction-sets = Construction sets and blocks: building from instructions and from the child's own ideas.
activity-tangram = Tangram and shape puzzles.
activity-origami = Origami and paper models.
activity-spatial-training = Games that turn, fold and fit shapes in the mind (mental rotation, puzzles of views from different sides).
activity-robotics = A robotics or engineering club.
activity-modelling-3d = 3D modelling or design on a computer, in a club or at school.
activity-number-board-games = Board games with a numbered track (1 to 100), moving a counter and saying the numbers aloud.
activity-everyday-maths = Maths in everyday life: counting money in a shop, measuring when cooking, estimating distances.
activity-maths-circle = A maths circle or olympiad-style problems, for the joy of solving.
activity-short-instructions = Give instructions one or two steps at a time and ask the child to repeat them.
activity-memory-aids = Use visible reminders: checklists, pictures of the steps, a timetable on the wall.
activity-no-brain-training = Skip "memory training" apps: they improve the game itself, not school learning; support in everyday tasks helps more.
activity-extra-time = Allow enough time for tasks and tests; avoid rushing.
activity-accuracy-first = Praise careful, correct work rather than speed.
activity-choir = Singing in a choir or at home.
activity-dombyra = Learning to play the dombyra or another instrument.
activity-free-play-variety = Plenty of free play of different kinds: outdoors, building, drawing, role play.
activity-clubs-sampling = Try several clubs over the year — sport, art, science, music — and let the child choose what to keep.

## Evidence tags

evidence-rct = tested in randomised trials
evidence-quasi-experimental = tested in controlled studies
evidence-correlational = linked in observational studies
evidence-expert-consensus = recommended by specialists
evidence-project-judgement = suggested by the programme; not yet studied

## Referral to the second stage

referral-referred = The results suggest inviting the child to the second, in-depth stage of the programme ({ $domain_key }: the likely range starts at { $ci_low }, at or above { $cut }).
referral-uncertain = It is not yet clear whether the second stage is needed ({ $domain_key }: the likely range { $ci_low }–{ $ci_high } includes { $cut }). The psychologist will decide together with the family; a repeat assessment may help.
referral-not-referred = The second stage of the programme is not suggested now. This says nothing against the child's abilities and interests.
referral-no-index = The second stage cannot be decided: the scores it needs were not obtained.
referral-rate-single = For comparison: on { $domain_key } alone, about { $referred_percent } % of children of this age would be invited and { $uncertain_percent } % would be undecided (an invitation needs a score of { $min_index } or more).
referral-rate-any = Over all the scores used, about { $referred_percent } % of children would be invited and { $uncertain_percent } % would be undecided (estimated on the { $n } children of the norm sample).
referral-rate-any-unknown = How many children are invited under these norms has not been estimated yet.

## Interests

interests-none = No interest questionnaire was filled in.
interests-ignored-age = Interests were not used: at { $age_years } they still change a lot; they are taken into account from age { $age_min }.
interests-blended = The { $respondent_key }'s answers about interests were taken into account ({ $interest_percent } % of the weight) in ordering the directions to explore.
respondent-parent = parent
respondent-child = child

## Caveats

caveat-stability = Abilities at this age are still developing and can change noticeably in a year or two; this report describes the child today.
caveat-reassess = A new assessment in { $months_min }–{ $months_max } months will show how the child is developing.
caveat-not-profession = This is not a choice of profession: the directions are ideas to explore with the child, not predictions.
caveat-intervals = Every score has a likely range (90 %): the child's true level most probably lies within it, so small differences between scores mean little.
caveat-whole-picture = One assessment is never the only basis for a decision about a child: it is read together with what the family, teachers and the child say.
caveat-demonstration = These results were computed with demonstration norms — not for clinical decisions.

## Layout of the rendered report (HTML, PDF)

label-child = Child
label-age = Age on the day of the assessment
label-domain = Area
label-index = Score
label-percentile = Percentile rank
label-classification = Level
section-norms = Norm set and where it comes from
label-battery = Battery
label-version = Version
label-norm-hash = Norm-set fingerprint (SHA-256)
label-guidance-hash = Guidance fingerprint (SHA-256 of the rules and texts)
label-software-version = Qabilet version that made the report
label-norm-status = Status
norm-status-demonstration = demonstration norms
norm-status-clinical = clinical norms
label-norm-created = Made on
label-norm-sample = Children in the standardisation sample
label-intended-use = Intended use
label-norm-method = How the norms were made (as their provenance states)
label-notice = Notice
label-trace = Why this is here
label-rule = Rule
label-source = Source
label-facts = Scores and cuts used
label-edited = Edited by the psychologist ({ $author }, { $time })
label-generated = Generated text
generated-by = Generated by Qabilet { $version }; every recommendation lists the rules and scores behind it.
chart-axis = Index score (average 100)
chart-average = Average range ({ $low }–{ $high })
page-number = Page { $page } of { $pages }
